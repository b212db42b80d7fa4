import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { CgroupLimitError } from "./errors.js";
import { V2CgroupManager, statsFromV2Files } from "./v2.js";

const CPU_STAT = `usage_usec 2500000
user_usec 2000000
system_usec 500000
core_sched.force_idle_usec 0
nr_periods 40
nr_throttled 7
throttled_usec 350000
nr_bursts 0
burst_usec 0
`;

const MEMORY_STAT = `anon 1048576
file 4194304
kernel 262144
active_anon 1048576
inactive_anon 0
active_file 1048576
inactive_file 3145728
`;

test("v2 stats from interface files", () => {
  const stats = statsFromV2Files(
    {
      cpuStat: CPU_STAT,
      memoryCurrent: "8388608\n",
      memoryStat: MEMORY_STAT,
      memoryMax: "33554432\n",
      memoryPeak: "9000000\n",
      memoryEvents: "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n",
      pidsCurrent: "3\n",
      pidsMax: "20\n",
      ioStat: "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
    },
    new Date("2025-01-01T00:00:00Z"),
  );
  assert.deepEqual(stats.cpu, {
    usageNanos: 2_500_000_000,
    userNanos: 2_000_000_000,
    systemNanos: 500_000_000,
    throttledPeriods: 7,
    throttledNanos: 350_000_000,
    onlineCpus: stats.cpu.onlineCpus,
  });
  assert.ok(stats.cpu.onlineCpus >= 1);
  assert.deepEqual(stats.memory, {
    usageBytes: 8388608,
    limitBytes: 33554432,
    cacheBytes: 4194304,
    workingSetBytes: 8388608 - 3145728,
    maxUsageBytes: 9000000,
    oomKills: 2,
  });
  assert.deepEqual(stats.pids, { current: 3, limit: 20 });
  assert.deepEqual(stats.io, { readBytes: 4096, writeBytes: 8192 });
  assert.equal(stats.readAt, "2025-01-01T00:00:00.000Z");
});

test("v2 stats without controllers: core cpu.stat only, unlimited memory = host memory", () => {
  const stats = statsFromV2Files({
    cpuStat: "usage_usec 10\nuser_usec 6\nsystem_usec 4\n",
    memoryMax: "max\n",
    pidsMax: "max\n",
  });
  assert.equal(stats.cpu.usageNanos, 10_000);
  assert.equal(stats.cpu.throttledPeriods, 0);
  assert.equal(stats.memory.limitBytes, totalmem());
  assert.equal(stats.memory.maxUsageBytes, undefined);
  assert.equal(stats.pids.limit, undefined);
  assert.equal(stats.io, undefined);
});

/** A directory laid out like cgroupfs: the files exist before anyone writes them. */
function fakeTree(controllers: string): { root: string; leaf: string } {
  const root = mkdtempSync(join(tmpdir(), "corral-cg2-"));
  const leaf = join(root, "corral", "c1");
  mkdirSync(leaf, { recursive: true });
  for (const dir of [root, join(root, "corral")]) {
    writeFileSync(join(dir, "cgroup.controllers"), `${controllers}\n`);
    writeFileSync(join(dir, "cgroup.subtree_control"), "");
  }
  const files: Record<string, string> = {
    "cgroup.controllers": `${controllers}\n`,
    "cgroup.procs": "",
    "cpu.max": "max 100000\n",
    "cpu.weight": "100\n",
    "memory.max": "max\n",
    "memory.swap.max": "max\n",
    "pids.max": "max\n",
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(leaf, name), text);
  return { root, leaf };
}

test("v2 create enables controllers on the way down and writes each limit", async () => {
  const { root, leaf } = fakeTree("cpuset cpu io memory pids");
  try {
    const manager = new V2CgroupManager("corral/c1", root, () => undefined);
    const report = await manager.create({
      memoryBytes: 32 * 1024 * 1024,
      memorySwapBytes: 48 * 1024 * 1024,
      cpuQuotaMicros: 50000,
      cpuPeriodMicros: 100000,
      cpuShares: 512,
      pidsLimit: 20,
    });
    const read = (name: string): string => readFileSync(join(leaf, name), "utf8");
    assert.equal(read("memory.max"), String(32 * 1024 * 1024));
    assert.equal(read("memory.swap.max"), String(16 * 1024 * 1024));
    assert.equal(read("cpu.max"), "50000 100000");
    assert.equal(read("cpu.weight"), "20");
    assert.equal(read("pids.max"), "20");
    // Each controller is enabled with its own write ("+io" is the last one in a plain file).
    assert.equal(readFileSync(join(root, "corral", "cgroup.subtree_control"), "utf8"), "+io");
    assert.deepEqual(report.controllers.sort(), ["cpu", "cpuset", "io", "memory", "pids"]);

    await manager.update({ cpuQuotaMicros: -1, pidsLimit: -1 });
    assert.equal(read("cpu.max"), "max 100000");
    assert.equal(read("pids.max"), "max");
  } finally {
    rmSync(root, { recursive: true });
  }
});

test("v2 refuses a limit whose controller is unavailable and names it", async () => {
  const { root, leaf } = fakeTree("cpu pids");
  try {
    const attached: string[] = [];
    const manager = new V2CgroupManager("corral/c1", root, (dir, rules) => {
      attached.push(dir);
      assert.ok(rules.some((r) => r.type === "b" && r.major === "*" && r.access === "m"));
    });
    await assert.rejects(
      manager.create({ memoryBytes: 64 * 1024 * 1024 }),
      (err: unknown) =>
        err instanceof CgroupLimitError &&
        /cannot apply memoryBytes: the cgroup v2 memory controller is not available/.test(
          err.message,
        ),
    );
    const report = await manager.create({ pidsLimit: 5 });
    assert.ok(report.warnings.some((w) => /memory controller is not available/.test(w)));
    assert.deepEqual(
      attached,
      [leaf, leaf],
      "each create attaches it, also one whose limits are then refused",
    );
  } finally {
    rmSync(root, { recursive: true });
  }
});

test("v2 create fails when the device program cannot be attached", async () => {
  const { root } = fakeTree("cpu pids");
  try {
    const manager = new V2CgroupManager("corral/c1", root, (dir) => {
      throw new Error(`cannot restrict device access of cgroup ${dir}: EPERM`);
    });
    await assert.rejects(manager.create({}), /cannot restrict device access of cgroup .*c1: EPERM/);
  } finally {
    rmSync(root, { recursive: true });
  }
});
