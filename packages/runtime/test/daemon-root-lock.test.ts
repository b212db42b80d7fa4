// One daemon per state root, whatever run dir each is given: CORRAL_ROOT alone now derives
// the run dir, so a daemon started before with another CORRAL_RUN must not get a twin.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

const DAEMON = fileURLToPath(new URL("../dist/daemon/main.js", import.meta.url));
let runtime: TestRuntime;

before(async () => {
  runtime = await startRuntime("root-lock");
});
after(() => runtime?.cleanup());

test("a second daemon for the same state root, in another run dir, refuses to start", () => {
  const r = spawnSync(process.execPath, [DAEMON], {
    env: { ...runtime.env, CORRAL_RUN: join(runtime.base, "other-run") },
    encoding: "utf8",
    timeout: 30000,
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `another corral-rtd \\(pid ${runtime.daemonPid()}\\) is running for this state root`,
    ),
  );
  assert.equal(runtime.rt("ps", "-q").code, 0, "the first one still serves");
});
