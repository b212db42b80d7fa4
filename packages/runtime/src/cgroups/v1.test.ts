import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { CgroupLimitError } from "./errors.js";
import { V1CgroupManager, statsFromV1Files } from "./v1.js";

test("v1 stats from controller files", () => {
  const stats = statsFromV1Files({
    cpuacctUsage: "2512345678\n",
    cpuacctStat: "user 200\nsystem 50\n",
    cpuStat: "nr_periods 40\nnr_throttled 7\nthrottled_time 350000000\nnr_bursts 0\nburst_time 0\n",
    memoryUsage: "8388608\n",
    memoryStat: "cache 4194304\nrss 1048576\ntotal_cache 4194304\ntotal_inactive_file 3145728\n",
    memoryMaxUsage: "9000000\n",
    memoryLimit: "33554432\n",
    memoryOomControl: "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
    pidsCurrent: "3\n",
    pidsMax: "max\n",
    blkioServiceBytes: "8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\nTotal 4608\n",
  });
  assert.equal(stats.cpu.usageNanos, 2512345678);
  assert.equal(stats.cpu.userNanos, 2_000_000_000); // 200 ticks of 10 ms
  assert.equal(stats.cpu.systemNanos, 500_000_000);
  assert.equal(stats.cpu.throttledPeriods, 7);
  assert.equal(stats.cpu.throttledNanos, 350_000_000);
  assert.deepEqual(stats.memory, {
    usageBytes: 8388608,
    limitBytes: 33554432,
    cacheBytes: 4194304,
    workingSetBytes: 8388608 - 3145728,
    maxUsageBytes: 9000000,
    oomKills: 1,
  });
  assert.deepEqual(stats.pids, { current: 3 });
  assert.deepEqual(stats.io, { readBytes: 4096, writeBytes: 512 });
});

test("v1 'no limit' (PAGE_COUNTER_MAX) reads as the host's memory", () => {
  const stats = statsFromV1Files({ memoryLimit: "9223372036854771712\n" });
  assert.equal(stats.memory.limitBytes, totalmem());
  assert.equal(stats.io, undefined);
});

function fakeHierarchies(names: string[]): { base: string; mounts: Map<string, string> } {
  const base = mkdtempSync(join(tmpdir(), "corral-cg1-"));
  const mounts = new Map<string, string>();
  const files: Record<string, Record<string, string>> = {
    memory: {
      "memory.limit_in_bytes": "9223372036854771712\n",
      "memory.memsw.limit_in_bytes": "9223372036854771712\n",
    },
    cpu: { "cpu.cfs_period_us": "100000\n", "cpu.cfs_quota_us": "-1\n", "cpu.shares": "1024\n" },
    pids: { "pids.max": "max\n" },
    cpuset: { "cpuset.cpus": "", "cpuset.mems": "" },
  };
  for (const name of names) {
    const mount = join(base, name);
    mounts.set(name, mount);
    const leaf = join(mount, "corral", "c1");
    mkdirSync(leaf, { recursive: true });
    writeFileSync(join(leaf, "cgroup.procs"), "");
    for (const [file, text] of Object.entries(files[name] ?? {})) {
      writeFileSync(join(leaf, file), text);
      writeFileSync(join(mount, "corral", file), text);
    }
  }
  writeFileSync(join(base, "cpuset", "cpuset.cpus"), "0-1\n");
  writeFileSync(join(base, "cpuset", "cpuset.mems"), "0\n");
  return { base, mounts };
}

test("v1 create writes each limit and copies cpuset from the parent", async () => {
  const { base, mounts } = fakeHierarchies(["memory", "cpu", "pids", "cpuset"]);
  try {
    const manager = new V1CgroupManager("corral/c1", mounts);
    await manager.create({
      memoryBytes: 32 * 1024 * 1024,
      memorySwapBytes: 64 * 1024 * 1024,
      cpuQuotaMicros: 50000,
      cpuPeriodMicros: 100000,
      cpuShares: 512,
      pidsLimit: 20,
    });
    const read = (ctrl: string, file: string): string =>
      readFileSync(join(base, ctrl, "corral", "c1", file), "utf8").trim();
    assert.equal(read("memory", "memory.limit_in_bytes"), String(32 * 1024 * 1024));
    assert.equal(read("memory", "memory.memsw.limit_in_bytes"), String(64 * 1024 * 1024));
    assert.equal(read("cpu", "cpu.cfs_quota_us"), "50000");
    assert.equal(read("cpu", "cpu.cfs_period_us"), "100000");
    assert.equal(read("cpu", "cpu.shares"), "512");
    assert.equal(read("pids", "pids.max"), "20");
    assert.equal(read("cpuset", "cpuset.cpus"), "0-1");
    assert.equal(read("cpuset", "cpuset.mems"), "0");
    assert.equal(readFileSync(join(base, "cpuset", "corral", "cpuset.cpus"), "utf8"), "0-1");
  } finally {
    rmSync(base, { recursive: true });
  }
});

test("v1 refuses a limit whose controller is not mounted", async () => {
  const { base, mounts } = fakeHierarchies(["cpu", "cpuset"]);
  try {
    const manager = new V1CgroupManager("corral/c1", mounts);
    await assert.rejects(
      manager.create({ pidsLimit: 10 }),
      (err: unknown) =>
        err instanceof CgroupLimitError &&
        /cannot apply pidsLimit: the cgroup v1 pids controller is not mounted/.test(err.message),
    );
  } finally {
    rmSync(base, { recursive: true });
  }
});

test("relative paths only", () => {
  assert.throws(() => new V1CgroupManager("/corral/x", new Map()), /relative path/);
  assert.throws(() => new V1CgroupManager("corral/../x", new Map()), /relative path/);
});
