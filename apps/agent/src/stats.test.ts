import assert from "node:assert/strict";
import { test } from "node:test";
import { statsSampleSchema } from "@corral/protocol";
import type { ContainerStats } from "@corral/runtime";
import { toStatsSample } from "./stats.js";

test("the daemon's stats of a container become a valid protocol sample", () => {
  const daemon: ContainerStats = {
    id: "c".repeat(64),
    name: "web",
    readAt: "2026-12-02T10:00:00.000Z",
    cpuPercent: 42.5,
    cpu: {
      usageNanos: 5e9,
      userNanos: 4e9,
      systemNanos: 1e9,
      throttledPeriods: 0,
      throttledNanos: 0,
      onlineCpus: 2,
    },
    memory: {
      usageBytes: 10_000_000,
      limitBytes: 64 * 2 ** 20,
      cacheBytes: 2_000_000,
      workingSetBytes: 8_000_000,
      oomKills: 0,
    },
    pids: { current: 3 },
    io: { readBytes: 4096, writeBytes: 8192 },
    network: { rxBytes: 1520, txBytes: 730, rxPackets: 11, txPackets: 6 },
  };
  const sample = toStatsSample(daemon);
  assert.deepEqual(statsSampleSchema.parse(sample), sample);
  assert.equal(sample.cpuPercent, 42.5);
  assert.deepEqual([sample.netRxBytes, sample.netTxBytes], [1520, 730]);
  assert.deepEqual([sample.blockReadBytes, sample.blockWriteBytes], [4096, 8192]);
  assert.equal(sample.memoryLimitBytes, 64 * 2 ** 20);
});
