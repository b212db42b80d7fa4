import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readNetworkStats } from "./stats.js";

test("network counters sum every interface of the process's namespace but lo", () => {
  const lines = readFileSync("/proc/self/net/dev", "utf8").split("\n").slice(2).filter(Boolean);
  const others = lines.filter((l) => l.split(":")[0]?.trim() !== "lo");
  const stats = readNetworkStats(process.pid);
  const rx = others.reduce((a, l) => a + Number(l.split(":")[1]?.trim().split(/\s+/)[0]), 0);
  // Counters only grow: read before, compared after.
  assert.ok(stats.rxBytes >= rx);
  assert.deepEqual(readNetworkStats(999_999_999), {
    rxBytes: 0,
    txBytes: 0,
    rxPackets: 0,
    txPackets: 0,
  });
});
