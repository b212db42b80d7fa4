// kill -9 of the daemon in the middle of a layer download: a throttling TCP proxy of our own on
// 127.0.0.1 slows Debian's docker-registry down so the kill lands mid-download. Afterwards no
// image is registered, and the next pull (by a restarted daemon) completes, leaving no work
// area behind and only whole layers in the store. And kill -9 of the CLI mid-download: the
// daemon stops downloading at once and removes its work area.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildTestImages } from "./fixtures/images.js";
import { pushWithSkopeo, startRegistry, type TestRegistry } from "./fixtures/registry.js";
import { CLI, startRuntime, type TestRuntime } from "./fixtures/runtime.js";

const run = promisify(execFile);
const BIG = 8 * 1024 * 1024;

interface Throttle {
  port: number;
  /** response bytes passed on so far */
  forwarded(): number;
  /** bytes per second from the registry to the client; Infinity for no limit */
  rate: number;
  close(): Promise<void>;
}

/** A TCP proxy to `target` that passes the registry's answers on at `rate` bytes a second. */
async function startThrottle(target: number, rate: number): Promise<Throttle> {
  let forwarded = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      forwarded += chunk.length;
      client.write(chunk);
      if (!Number.isFinite(throttle.rate)) return;
      upstream.pause();
      setTimeout(() => upstream.resume(), (chunk.length / throttle.rate) * 1000);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const throttle: Throttle = {
    port: typeof address === "object" && address !== null ? address.port : 0,
    forwarded: () => forwarded,
    rate,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return throttle;
}

let runtime: TestRuntime;
let registry: TestRegistry;
let throttle: Throttle;
let ref: string;
let ref2: string;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

before(async () => {
  runtime = await startRuntime("pull-interrupted");
  registry = await startRegistry();
  const images = await buildTestImages(join(runtime.base, "images"));
  // The test image plus a layer of 8 MiB of random bytes (gzip cannot shrink it).
  for (const name of ["big", "big2"]) {
    const layout = join(runtime.base, `${name}-layout`);
    await run("cp", ["-a", images.layoutDir, layout]);
    const content = join(runtime.base, `${name}-content`);
    mkdirSync(content);
    writeFileSync(join(content, "big"), randomBytes(BIG));
    const tar = join(runtime.base, `${name}.tar`);
    await run("tar", ["-C", content, "-cf", tar, "big"]);
    await run("umoci", ["raw", "add-layer", "--image", `${layout}:latest`, tar]);
    await pushWithSkopeo(`oci:${layout}:latest`, `${registry.host}/corral/${name}:1`);
  }
  throttle = await startThrottle(registry.port, 1024 * 1024);
  ref = `127.0.0.1:${throttle.port}/corral/big:1`;
  ref2 = `127.0.0.1:${throttle.port}/corral/big2:1`;
});

after(async () => {
  runtime?.cleanup();
  await throttle?.close();
  await registry?.stop();
});

test("a pull killed mid-download registers nothing; the next pull completes and leaves no temp files", async () => {
  const store = join(runtime.base, "root", "image");
  const layersBefore = readdirSync(join(store, "layers")).sort();
  const pulling = runtime.rtAsync("pull", ref);
  for (let i = 0; i < 400 && throttle.forwarded() < 2 * 1024 * 1024; i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.ok(throttle.forwarded() >= 2 * 1024 * 1024, "the download never got going");
  assert.ok(throttle.forwarded() < BIG, "the download finished before the kill");
  const pid = runtime.daemonPid();
  process.kill(pid, "SIGKILL");
  const killed = await pulling;
  assert.notEqual(killed.code, 0);
  // The kill landed mid-layer: the dead daemon's work area is still there.
  const leftovers = readdirSync(join(store, "tmp"));
  assert.ok(
    leftovers.some((name) => name.startsWith(`${pid}-pull-`)),
    `no work area of pid ${pid}: ${leftovers.join(", ")}`,
  );
  assert.deepEqual(readdirSync(join(store, "layers")).sort(), layersBefore);

  // A new daemon (started by this command) knows no such image.
  const listed = runtime.rt("images", "--format", "json");
  assert.equal(listed.code, 0, listed.err);
  assert.doesNotMatch(listed.out, /corral\/big/);

  throttle.rate = Infinity;
  // Async: the proxy lives in this process, a synchronous spawn would stall it.
  const pulled = await runtime.rtAsync("pull", ref);
  assert.equal(pulled.code, 0, pulled.err);
  assert.match(pulled.err, /Status: Downloaded newer image/);
  assert.deepEqual(readdirSync(join(store, "tmp")), []);
  const layers = readdirSync(join(store, "layers"));
  assert.equal(layers.length, layersBefore.length + 1);
  for (const layer of layers) {
    assert.ok(
      existsSync(join(store, "layers", layer, "layer.json")),
      `layer ${layer} is not whole`,
    );
  }
  const c = runtime.rt("run", "--rm", "--network", "none", ref, "sh", "-c", "wc -c < /big");
  assert.equal(c.code, 0, c.err);
  assert.equal(c.out.trim(), String(BIG));
});

test("a pull whose client is killed mid-download stops: no more bytes, no work area, no image", async () => {
  const store = join(runtime.base, "root", "image");
  throttle.rate = 1024 * 1024;
  const start = throttle.forwarded();
  const got = (): number => throttle.forwarded() - start;
  const child = spawn(process.execPath, [CLI, "pull", ref2], { env: runtime.env, stdio: "ignore" });
  const exited = new Promise((resolve) => child.on("close", resolve));
  for (let i = 0; i < 400 && got() < 2 * 1024 * 1024; i++) await sleep(25);
  assert.ok(got() >= 2 * 1024 * 1024, "the download never got going");
  assert.ok(got() < BIG, "the download finished before the kill");
  child.kill("SIGKILL");
  await exited;
  // The rest of the layer would take over 5 s at this rate: a daemon that went on would still
  // be downloading into its work area for the next 3 s.
  const pid = runtime.daemonPid();
  const working = (): string[] =>
    readdirSync(join(store, "tmp")).filter((n) => n.startsWith(`${pid}-pull-`));
  for (let i = 0; i < 120 && working().length > 0; i++) await sleep(25);
  assert.deepEqual(working(), [], "the daemon still has its work area 3 s after the kill");
  const stopped = throttle.forwarded();
  await sleep(1000);
  assert.equal(throttle.forwarded(), stopped, "the daemon kept downloading");
  const listed = await runtime.rtAsync("images", "--format", "json");
  assert.equal(listed.code, 0, listed.err);
  assert.doesNotMatch(listed.out, /corral\/big2/);
});
