// Privileged: real cgroup v1 hierarchies of this host (hybrid Debian 12). Skipped elsewhere.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  V1CgroupManager,
  createCgroupManager,
  cpusToLimits,
  detectCgroups,
  type CgroupLayout,
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
import { waitFor } from "./fixtures/wait.js";

const layout = detectCgroups();
const skip =
  layout.kind !== "v1"
    ? "host has no cgroup v1 controllers"
    : process.getuid?.() !== 0
      ? "needs root"
      : false;

describe("cgroup v1 manager (real hierarchies)", { skip }, () => {
  const parent = testParent();
  let mounts: ReadonlyMap<string, string>;
  let v1: CgroupLayout;
  let n = 0;
  const manager = (): V1CgroupManager => {
    const m = createCgroupManager(`${parent}/c${++n}`, v1);
    assert.ok(m instanceof V1CgroupManager);
    return m;
  };

  before(() => {
    assert.equal(layout.kind, "v1");
    if (layout.kind === "v1") mounts = layout.mounts;
    v1 = layout;
  });
  afterEach(() => killChildren());
  after(async () => {
    killChildren();
    // Removes every test cgroup (and kills what is left in them), even after failures.
    await new V1CgroupManager(parent, mounts).destroy();
    for (const mount of new Set(mounts.values())) assert.ok(!existsSync(join(mount, parent)));
  });

  test("create writes memory, pids, cpu and shares limits; cpuset is inherited", async () => {
    const cg = manager();
    const report = await cg.create({
      memoryBytes: 32 * MiB,
      pidsLimit: 20,
      ...cpusToLimits(0.5),
      cpuShares: 512,
    });
    assert.ok(report.controllers.includes("memory"));
    const read = (ctrl: string, file: string): string =>
      readFileSync(join(cg.dir(ctrl) ?? "", file), "utf8").trim();
    assert.equal(read("memory", "memory.limit_in_bytes"), String(32 * MiB));
    assert.equal(read("pids", "pids.max"), "20");
    assert.equal(read("cpu", "cpu.cfs_quota_us"), "50000");
    assert.equal(read("cpu", "cpu.cfs_period_us"), "100000");
    assert.equal(read("cpu", "cpu.shares"), "512");
    assert.notEqual(read("cpuset", "cpuset.cpus"), "");
    assert.notEqual(read("cpuset", "cpuset.mems"), "");
    assert.match(read("devices", "devices.list"), /^c 1:3 rwm$/m);
    assert.doesNotMatch(read("devices", "devices.list"), /^a /m);

    await cg.update({ memoryBytes: 64 * MiB, memorySwapBytes: 128 * MiB, pidsLimit: -1 });
    assert.equal(read("memory", "memory.limit_in_bytes"), String(64 * MiB));
    assert.equal(read("memory", "memory.memsw.limit_in_bytes"), String(128 * MiB));
    assert.equal(read("pids", "pids.max"), "max");
    // Lowering both below the current memory+swap limit writes memory first.
    await cg.update({ memoryBytes: 16 * MiB, memorySwapBytes: 16 * MiB });
    assert.equal(read("memory", "memory.memsw.limit_in_bytes"), String(16 * MiB));
    await assert.rejects(
      cg.update({ memoryBytes: 1 * MiB }),
      /Minimum memory limit allowed is 6MB/,
    );
    await cg.destroy();
  });

  test("addProcess puts a process in every hierarchy; pids() sees it", async () => {
    const cg = manager();
    await cg.create();
    const { pid, child } = spawnGated("sleep 30");
    await cg.addProcess(pid);
    assert.deepEqual(await cg.pids(), [pid]);
    for (const ctrl of ["memory", "cpu", "pids", "freezer", "cpuset", "devices"]) {
      assert.match(cgroupOf(pid), new RegExp(`:${ctrl}:/${cg.relPath}$`, "m"));
    }
    await cg.destroy();
    assert.equal((await exitOf(child)).signal, "SIGKILL");
  });

  test("freeze stops a busy loop, thaw resumes it; stats count its CPU time", async () => {
    const cg = manager();
    await cg.create();
    const { pid, go } = spawnGated("sh -c 'while :; do :; done'");
    await cg.addProcess(pid);
    go();
    const before = await cg.stats();
    const running = await waitFor("the busy loop's CPU time in the stats", async () => {
      const s = await cg.stats();
      return s.cpu.usageNanos - before.cpu.usageNanos > 100e6 && s;
    });
    assert.equal(running.pids.current, 1);

    await cg.freeze();
    assert.equal(await cg.isFrozen(), true);
    assert.equal(
      readFileSync(join(cg.dir("freezer") ?? "", "freezer.state"), "utf8").trim(),
      "FROZEN",
    );
    const t0 = cpuTicks(pid);
    const u0 = (await cg.stats()).cpu.usageNanos;
    await sleep(300);
    assert.equal(cpuTicks(pid), t0, "no CPU time while frozen");
    assert.equal((await cg.stats()).cpu.usageNanos, u0);

    await cg.thaw();
    assert.equal(await cg.isFrozen(), false);
    await waitFor("the loop to run again after thaw", () => cpuTicks(pid) > t0);
    await cg.destroy();
  });

  test("a process over its memory limit is OOM-killed and counted", async () => {
    const cg = manager();
    await cg.create({ memoryBytes: 16 * MiB, memorySwapBytes: 16 * MiB });
    assert.equal(await cg.oomKilled(), 0);
    const { pid, child, go } = spawnGated("tail /dev/zero");
    await cg.addProcess(pid);
    go();
    const { signal } = await exitOf(child);
    assert.equal(signal, "SIGKILL");
    assert.ok((await cg.oomKilled()) >= 1);
    const stats = await cg.stats();
    assert.ok(stats.memory.oomKills >= 1);
    assert.equal(stats.memory.limitBytes, 16 * MiB);
    assert.ok((stats.memory.maxUsageBytes ?? 0) > 8 * MiB);
    await cg.destroy();
  });

  test("killAll delivers a signal; destroy kills leftovers, removes every dir, is idempotent", async () => {
    const cg = manager();
    await cg.create({ pidsLimit: 20 });
    const a = spawnGated("sleep 30");
    const b = spawnGated("sleep 30");
    await cg.addProcess(a.pid);
    await cg.addProcess(b.pid);
    await cg.killAll("SIGTERM");
    assert.equal((await exitOf(a.child)).signal, "SIGTERM");
    assert.equal((await exitOf(b.child)).signal, "SIGTERM");

    const c = spawnGated("sh -c 'sleep 30 & sleep 30 & wait'");
    await cg.addProcess(c.pid);
    c.go();
    await sleep(100);
    assert.equal((await cg.pids()).length, 3);
    await cg.freeze(); // destroy must also work on a paused container
    await cg.destroy();
    assert.equal((await exitOf(c.child)).signal, "SIGKILL");
    assert.equal(await cg.exists(), false);
    for (const dir of cg.dirs()) assert.ok(!existsSync(dir), `${dir} removed`);
    await cg.destroy();
  });

  test("operations on a missing cgroup say so", async () => {
    const cg = manager();
    await assert.rejects(cg.addProcess(process.pid), /does not exist \(create it first\)/);
    await assert.rejects(cg.freeze(), /does not exist/);
    await cg.destroy();
  });
});
