// Privileged: the real cgroup2 mount of this host. On the hybrid dev machines that is
// /sys/fs/cgroup/unified with no controllers: core features (procs, freeze, kill, cpu.stat)
// are real there, and any limit must be refused clearly.
import { after, afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CgroupLimitError,
  V2CgroupManager,
  createCgroupManager,
  detectCgroups,
} from "../src/cgroups/index.js";
import {
  MiB,
  cgroupOf,
  cpuTicks,
  exitOf,
  killChildren,
  spawnGated,
  testParent,
} from "./cgroups-helpers.js";

const detected = detectCgroups();
const root = detected.kind === "v2" ? detected.root : detected.unified;
const skip =
  root === undefined ? "no cgroup2 mount" : process.getuid?.() !== 0 ? "needs root" : false;

describe("cgroup v2 manager (real cgroup2 mount)", { skip }, () => {
  const cgroot = root ?? "";
  const parent = testParent();
  let n = 0;
  const manager = (): V2CgroupManager => {
    const m = createCgroupManager(`${parent}/c${++n}`, { kind: "v2", root: cgroot });
    assert.ok(m instanceof V2CgroupManager);
    return m;
  };
  const available = (): Set<string> =>
    new Set(readFileSync(join(cgroot, "cgroup.controllers"), "utf8").trim().split(/\s+/));

  afterEach(() => killChildren());
  after(async () => {
    killChildren();
    await new V2CgroupManager(parent, cgroot).destroy();
    assert.ok(!existsSync(join(cgroot, parent)));
  });

  test("create, addProcess, pids, stats from core cpu.stat, destroy", async () => {
    const cg = manager();
    const report = await cg.create();
    for (const c of ["memory", "pids", "cpu", "io"]) {
      if (!available().has(c)) {
        assert.ok(report.warnings.some((w) => w.includes(`the ${c} controller is not available`)));
      }
    }
    assert.equal(await cg.exists(), true);
    const { pid, go } = spawnGated("sh -c 'while :; do :; done'");
    await cg.addProcess(pid);
    assert.match(cgroupOf(pid), new RegExp(`^0::/${cg.relPath}$`, "m"));
    assert.deepEqual(await cg.pids(), [pid]);
    go();
    const s0 = await cg.stats();
    await sleep(300);
    const s1 = await cg.stats();
    assert.ok(s1.cpu.usageNanos - s0.cpu.usageNanos > 100e6, "cpu.stat usage grows");
    assert.ok(s1.cpu.userNanos > 0);
    assert.equal(s1.pids.current, 1);
    await cg.destroy();
    assert.equal(await cg.exists(), false);
    assert.ok(!existsSync(cg.path));
  });

  test("freeze via cgroup.freeze stops a busy loop; thaw resumes it", async () => {
    const cg = manager();
    await cg.create();
    const { pid, go } = spawnGated("sh -c 'while :; do :; done'");
    await cg.addProcess(pid);
    go();
    await sleep(100);
    await cg.freeze();
    assert.equal(await cg.isFrozen(), true);
    assert.match(readFileSync(join(cg.path, "cgroup.events"), "utf8"), /^frozen 1$/m);
    const t0 = cpuTicks(pid);
    await sleep(300);
    assert.equal(cpuTicks(pid), t0, "no CPU time while frozen");
    await cg.thaw();
    assert.equal(await cg.isFrozen(), false);
    await sleep(300);
    assert.ok(cpuTicks(pid) > t0);
    await cg.freeze();
    await cg.destroy(); // frozen processes are killed too
    assert.ok(!existsSync(cg.path));
  });

  test("killAll with a signal, and destroy of a process tree", async () => {
    const cg = manager();
    await cg.create();
    const a = spawnGated("sleep 30");
    await cg.addProcess(a.pid);
    await cg.killAll("SIGTERM");
    assert.equal((await exitOf(a.child)).signal, "SIGTERM");
    const b = spawnGated("sh -c 'sleep 30 & sleep 30 & wait'");
    await cg.addProcess(b.pid);
    b.go();
    await sleep(100);
    assert.equal((await cg.pids()).length, 3);
    await cg.destroy();
    assert.equal((await exitOf(b.child)).signal, "SIGKILL");
    await cg.destroy(); // idempotent
  });

  test("a limit whose controller is unavailable is refused and leaves no cgroup", async (t) => {
    if (available().has("memory")) {
      t.skip("this cgroup2 mount has the memory controller");
      return;
    }
    const cg = manager();
    await assert.rejects(
      cg.create({ memoryBytes: 64 * MiB }),
      (err: unknown) =>
        err instanceof CgroupLimitError &&
        /cannot apply memoryBytes: the cgroup v2 memory controller is not available at /.test(
          err.message,
        ),
    );
    assert.ok(!existsSync(cg.path));
    await assert.rejects(cg.create({ pidsLimit: 10 }), /pids controller is not available/);
  });
});
