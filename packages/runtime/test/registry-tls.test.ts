// insecure-registries, Docker's way, against Debian's docker-registry on 127.0.0.1: a registry
// with a self-signed certificate is refused, in one line saying what to do, until runtime.json
// lists it; listed, pulls and pushes go to it over HTTPS without certificate checks. A listed
// registry that speaks plain HTTP is probed over HTTPS once, then spoken to over HTTP (seen
// through a TCP forwarder that records how each connection starts).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { buildTestImages } from "./fixtures/images.js";
import { pushWithSkopeo, startRegistry, type TestRegistry } from "./fixtures/registry.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let work: string;
let configFile: string;
let certificate: string;
let runtime: TestRuntime;
let secure: TestRegistry;
let plain: TestRegistry;
let forwarder: Forwarder | undefined;

interface Forwarder {
  port: number;
  /** per connection, in order: "TLS" for a TLS handshake, else its first request line */
  openings: string[];
  close(): Promise<void>;
}

/** A TCP forwarder to 127.0.0.1:`target` that records how each connection begins. */
async function startForwarder(target: number): Promise<Forwarder> {
  const openings: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.once("data", (chunk: Buffer) => {
      // 0x16 is a TLS handshake record: a ClientHello.
      openings.push(chunk[0] === 0x16 ? "TLS" : (chunk.toString("latin1").split("\r\n")[0] ?? ""));
    });
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : 0,
    openings,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function writeConfig(insecure: string[]): void {
  writeFileSync(configFile, JSON.stringify({ "insecure-registries": insecure }));
}

function daemonLog(): string {
  return readFileSync(join(runtime.base, "run", "rtd.log"), "utf8");
}

/** Rewrites runtime.json and reloads it with SIGHUP, as a user would. */
async function reconfigure(insecure: string[]): Promise<void> {
  const seen = daemonLog().split("registry configuration reloaded").length;
  writeConfig(insecure);
  process.kill(runtime.daemonPid(), "SIGHUP");
  for (let i = 0; i < 200; i++) {
    if (daemonLog().split("registry configuration reloaded").length > seen) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`the daemon did not reload ${configFile}: ${daemonLog().slice(-500)}`);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "corral-registry-tls-"));
  certificate = join(work, "cert.pem");
  const key = join(work, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-keyout",
      key,
      "-out",
      certificate,
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  secure = await startRegistry({ tls: { certificate, key } });
  plain = await startRegistry();
  forwarder = await startForwarder(plain.port);
  const images = await buildTestImages(join(work, "images"));
  await pushWithSkopeo(`oci:${images.layoutDir}:latest`, `${secure.host}/team/app:1`);
  await pushWithSkopeo(`oci:${images.layoutDir}:latest`, `${plain.host}/team/app:1`);
  configFile = join(work, "runtime.json");
  writeConfig([`127.0.0.1:${forwarder.port}`]);
  // startRuntime's daemon inherits this environment.
  process.env.CORRAL_CONFIG = configFile;
  try {
    runtime = await startRuntime("registry-tls");
  } finally {
    delete process.env.CORRAL_CONFIG;
  }
});

after(async () => {
  runtime?.cleanup();
  await forwarder?.close();
  await secure?.stop();
  await plain?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("a registry whose certificate does not verify is refused until it is listed", () => {
  const r = runtime.rt("pull", `${secure.host}/team/app:1`);
  assert.equal(r.code, 1);
  assert.equal(
    r.err,
    `corral-rt: x509/TLS error from https://${secure.host}: self-signed certificate ` +
      `(DEPTH_ZERO_SELF_SIGNED_CERT): add ${secure.host} to insecure-registries in ` +
      `${configFile} if you trust it\n`,
  );
  assert.doesNotMatch(runtime.rt("images", "--format", "json").out, /team\/app/);
});

test("listed, it is pulled from and pushed to over HTTPS without certificate checks", async () => {
  await reconfigure([secure.host, `127.0.0.1:${forwarder?.port}`]);
  const pulled = runtime.rt("pull", `${secure.host}/team/app:1`);
  assert.equal(pulled.code, 0, pulled.err);
  assert.match(pulled.err, new RegExp(`Downloaded newer image for ${secure.host}/team/app:1`));
  const c = runtime.rt(
    "run",
    "--rm",
    "--network",
    "none",
    `${secure.host}/team/app:1`,
    "echo",
    "ok",
  );
  assert.equal(c.code, 0, c.err);
  assert.equal(c.out, "ok\n");

  const tagged = `${secure.host}/team/pushed:2`;
  assert.equal(runtime.rt("tag", `${secure.host}/team/app:1`, tagged).code, 0);
  const pushed = runtime.rt("push", tagged);
  assert.equal(pushed.code, 0, pushed.err);
  // The registry has it, seen over TLS checked against its own certificate ...
  const ca = new Agent({ connect: { ca: readFileSync(certificate) } });
  try {
    const manifest = await fetch(`https://${secure.host}/v2/team/pushed/manifests/2`, {
      dispatcher: ca,
      headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    await manifest.body?.cancel();
    assert.equal(manifest.status, 200);
  } finally {
    await ca.close();
  }
  // ... and it speaks nothing but TLS, so the pull and the push were HTTPS.
  const http = await fetch(`http://${secure.host}/v2/`);
  assert.equal(http.status, 400);
  assert.match(await http.text(), /Client sent an HTTP request to an HTTPS server/);
});

test("a listed registry that does not speak TLS: HTTPS is tried once, then plain HTTP", async () => {
  assert.ok(forwarder);
  const ref = `127.0.0.1:${forwarder.port}/team/app:1`;
  // Async: the forwarder runs in this process, which spawnSync would block.
  const r = await runtime.rtAsync("pull", ref);
  assert.equal(r.code, 0, r.err);
  // The image itself is in the store already (the test image): the pull adds the name.
  assert.match(r.err, /^Digest: sha256:[0-9a-f]{64}$/m);
  assert.match(
    runtime.rt("images", "--format", "json").out,
    new RegExp(`"Repository":"127\\.0\\.0\\.1:${forwarder.port}/team/app","Tag":"1"`),
  );
  const [first, ...rest] = forwarder.openings;
  assert.equal(first, "TLS");
  assert.ok(rest.length > 0, "no plain HTTP connection followed");
  for (const line of rest) assert.match(line, /^(GET|HEAD) \/v2\/team\/app\/\S+ HTTP\/1\.1$/);
});
