// The whole container start on cgroup v2: a daemon told to use this hybrid host's cgroup2 mount
// (CORRAL_CGROUP2), so the BPF device program is the only device control its containers get.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { detectCgroups } from "../src/cgroups/index.js";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";
import { DEVICE_EXPECTED, DEVICE_RUN } from "./fixtures/devices.js";

const detected = detectCgroups();
const unified = detected.kind === "v2" ? detected.root : detected.unified;
const skip =
  unified === undefined ? "no cgroup2 mount" : process.getuid?.() !== 0 ? "needs root" : false;

let runtime: TestRuntime;
const rt = (...args: string[]): ReturnType<TestRuntime["rt"]> => runtime.rt(...args);

// Loop devices: block nodes every Linux host has that root may open outside a container.
const ESCAPE =
  "mknod /disk b 7 0 && echo mknod-ok; head -c1 /disk >/dev/null && echo disk-read; " +
  "echo x > /dev/null && echo null-written; head -c3 /dev/urandom | wc -c";

describe("container start on cgroup v2", { skip }, () => {
  before(async () => {
    const saved = process.env.CORRAL_CGROUP2;
    process.env.CORRAL_CGROUP2 = unified;
    try {
      runtime = await startRuntime("cgroup2");
    } finally {
      if (saved === undefined) delete process.env.CORRAL_CGROUP2;
      else process.env.CORRAL_CGROUP2 = saved;
    }
  });

  after(() => runtime.cleanup());

  test("container root can make a host disk's node but not open it; /dev/null works", () => {
    const r = rt("run", "--rm", TEST_IMAGE_NAME, "sh", "-c", `${ESCAPE}; cat /proc/self/cgroup`);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^mknod-ok\n/);
    assert.match(r.out, /head: \/disk: Operation not permitted\n/);
    assert.doesNotMatch(r.out, /disk-read/);
    assert.match(r.out, /null-written\n\s*3\n/);
    assert.match(r.out, /^0::\/\n$/m, "in its own cgroup2 namespace");
  });

  test("exec'd processes are under the same device program", () => {
    const id = rt("run", "-d", TEST_IMAGE_NAME, "sleep", "100").out.trim();
    const r = rt("exec", id, "sh", "-c", ESCAPE);
    assert.match(r.err, /head: \/disk: Operation not permitted\n/);
    assert.doesNotMatch(r.out, /disk-read/);
    rt("rm", "-f", id);
  });

  test("cgroup warnings reach inspect and the daemon's log", () => {
    const id = rt("run", "-d", "--name", "warned", TEST_IMAGE_NAME, "sleep", "100").out.trim();
    const [info] = JSON.parse(rt("inspect", id).out) as [{ State: { Warnings: string[] } }];
    if (readFileSync(join(unified ?? "", "cgroup.controllers"), "utf8").includes("memory")) return;
    assert.ok(
      info.State.Warnings.some((w) => /the memory controller is not available/.test(w)),
      JSON.stringify(info.State.Warnings),
    );
    const log = readFileSync(join(runtime.base, "run", "rtd.log"), "utf8");
    assert.match(log, /container warned: the memory controller is not available/);
    rt("rm", "-f", id);
  });

  test("--device adds its rule to the device program", () => {
    const r = rt(...DEVICE_RUN);
    assert.equal(r.out, DEVICE_EXPECTED, r.err);
  });
});
