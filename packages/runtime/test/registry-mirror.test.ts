// registry-mirrors from runtime.json (CORRAL_CONFIG), with three mirrors on 127.0.0.1: one
// where nothing listens, one registry without the image, one with it. A Docker Hub name
// (`busybox`) is served by the third after the first two fail, so nothing ever goes to Docker
// Hub itself; names of other registries never use mirrors. Also: a bad config keeps the
// daemon from starting, with one line naming the key and the file; SIGHUP reloads it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildTestImages } from "./fixtures/images.js";
import { freePort, pushWithSkopeo, startRegistry, type TestRegistry } from "./fixtures/registry.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

const DAEMON = fileURLToPath(new URL("../dist/daemon/main.js", import.meta.url));

let work: string;
let configFile: string;
let runtime: TestRuntime;
let empty: TestRegistry;
let full: TestRegistry;
let deadPort: number;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "corral-mirror-"));
  empty = await startRegistry();
  full = await startRegistry();
  deadPort = await freePort();
  const images = await buildTestImages(join(work, "images"));
  await pushWithSkopeo(`oci:${images.layoutDir}:latest`, `${full.host}/library/busybox:latest`);
  configFile = join(work, "runtime.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      "registry-mirrors": [
        `http://127.0.0.1:${deadPort}`,
        `http://${empty.host}/`,
        `http://${full.host}`,
      ],
    }),
  );
  // startRuntime's daemon inherits this environment.
  process.env.CORRAL_CONFIG = configFile;
  try {
    runtime = await startRuntime("registry-mirror");
  } finally {
    delete process.env.CORRAL_CONFIG;
  }
});

after(async () => {
  runtime?.cleanup();
  await empty?.stop();
  await full?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function daemonLog(): string {
  return readFileSync(join(runtime.base, "run", "rtd.log"), "utf8");
}

/** Waits (up to 10 s) until the daemon's log matches: signals are handled asynchronously. */
async function waitForLog(pattern: RegExp): Promise<void> {
  for (let i = 0; i < 200 && !pattern.test(daemonLog()); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(daemonLog(), pattern);
}

test("a Docker Hub name is pulled from the first mirror that has it", () => {
  const r = runtime.rt("pull", "busybox");
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /Status: Downloaded newer image for busybox/);
  const images = runtime.rt("images", "--format", "json").out;
  assert.match(images, /"Repository":"busybox","Tag":"latest"/);
  const log = daemonLog();
  assert.match(
    log,
    new RegExp(
      `mirror http://127\\.0\\.0\\.1:${deadPort} failed, trying the next source: cannot reach`,
    ),
  );
  assert.match(
    log,
    new RegExp(`mirror http://${empty.host} failed, trying the next source: .*not found`),
  );
  const c = runtime.rt("run", "--rm", "--network", "none", "busybox", "echo", "from a mirror");
  assert.equal(c.code, 0, c.err);
  assert.equal(c.out, "from a mirror\n");
});

test("other registries' names never go through mirrors", () => {
  const r = runtime.rt("pull", `${empty.host}/library/busybox`);
  assert.equal(r.code, 1);
  assert.match(r.err, /^corral-rt: manifest for .*library\/busybox:latest not found/);
});

test("SIGHUP reloads the configuration; a bad one is refused and the old one kept", async () => {
  writeFileSync(configFile, JSON.stringify({ "registry-mirrors": [`http://${full.host}`] }));
  process.kill(runtime.daemonPid(), "SIGHUP");
  await waitForLog(/SIGHUP: registry configuration reloaded\n/);
  writeFileSync(configFile, JSON.stringify({ "registry-mirrors": "oops" }));
  process.kill(runtime.daemonPid(), "SIGHUP");
  await waitForLog(
    /SIGHUP: invalid "registry-mirrors" in .*runtime\.json: .*; keeping the configuration in use\n/,
  );
  // The good one is in use: busybox again, straight from the one mirror left.
  assert.equal(runtime.rt("rmi", "busybox").code, 0);
  const before = daemonLog().length;
  const r = runtime.rt("pull", "busybox");
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(daemonLog().slice(before), /failed, trying the next source/);
});

test("a bad configuration keeps the daemon from starting, in one line naming key and file", () => {
  const bad = join(work, "bad.json");
  writeFileSync(bad, JSON.stringify({ "registry-mirror": ["http://x"] }));
  const base = join(work, "bad-daemon");
  const r = spawnSync(process.execPath, [DAEMON], {
    env: {
      ...process.env,
      CORRAL_CONFIG: bad,
      CORRAL_ROOT: join(base, "root"),
      CORRAL_RUN: join(base, "run"),
    },
    encoding: "utf8",
    timeout: 30000,
  });
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0] ?? "",
    new RegExp(
      `corral-rtd: unknown key "registry-mirror" in ${bad} \\(known keys: registry-mirrors, insecure-registries, bip\\)$`,
    ),
  );
});
