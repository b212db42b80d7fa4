// A daemon that may not make device nodes (no CAP_MKNOD, as in a user namespace) still loads an
// image whose layer has one: the node is left out, with a line in the daemon's log saying so.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeOciArchive, makeTar } from "./fixtures/archives.js";
import { CLI, startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;

before(async () => {
  runtime = await startRuntime("devices");
});

after(() => runtime?.cleanup());

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("without CAP_MKNOD the daemon loads the image and logs the node it left out", async () => {
  const archive = join(runtime.base, "console.tar");
  const layer = await makeTar([
    { header: { name: "dev/console", type: "character-device", devmajor: 5, devminor: 1 } },
    { header: { name: "etc/os-release" }, content: "ID=test\n" },
  ]);
  writeFileSync(archive, await makeOciArchive({ layers: [layer] }));
  const daemon = runtime.daemonPid();
  process.kill(daemon, "SIGTERM");
  for (let i = 0; i < 200 && isAlive(daemon); i++) spawnSync("sleep", ["0.05"]);
  // The CLI starts the daemon on demand, with the capabilities it has itself.
  const r = spawnSync(
    "setpriv",
    ["--bounding-set=-mknod", process.execPath, CLI, "load", "-i", archive, "-t", "console:1"],
    { env: runtime.env, encoding: "utf8", timeout: 60000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const log = readFileSync(join(runtime.base, "run", "rtd.log"), "utf8");
  assert.match(
    log,
    /corral-rtd: load: layer entry "dev\/console": character device 5:1 left out \(mknod: EPERM\)\n/,
  );
});
