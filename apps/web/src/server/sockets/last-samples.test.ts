import assert from "node:assert/strict";
import { test } from "node:test";
import type { StatsSample } from "@corral/protocol";
import { LastSamples } from "./last-samples.ts";

const sample = (id: string, cpuPercent = 1): StatsSample => ({
  id: id.repeat(64),
  time: "2026-12-03T00:00:00Z",
  cpuPercent,
  cpuUsageNanos: 0,
  memoryUsageBytes: 0,
  memoryWorkingSetBytes: 0,
  memoryLimitBytes: 0,
  netRxBytes: 0,
  netTxBytes: 0,
  blockReadBytes: 0,
  blockWriteBytes: 0,
  pids: 1,
});

test("the last sample of each container, per host; a host's are forgotten without touching others", () => {
  const last = new LastSamples();
  last.set("h1", sample("a"));
  last.set("h1", sample("a", 50));
  last.set("h1", sample("b"));
  last.set("h2", sample("c"));
  assert.equal(last.get("a".repeat(64))?.cpuPercent, 50, "the newer sample replaces the older");
  assert.deepEqual(
    [...last.entries()].map(([h, s]) => `${h}:${s.id[0]}`),
    ["h1:a", "h1:b", "h2:c"],
  );
  // h1's snapshot says only `a` still runs
  last.forget("h1", (id) => id !== "a".repeat(64));
  assert.equal(last.get("b".repeat(64)), undefined);
  assert.ok(last.get("a".repeat(64)));
  last.delete("a".repeat(64));
  assert.equal(last.get("a".repeat(64)), undefined);
  last.forget("h2");
  assert.deepEqual([...last.entries()], []);
  last.forget("h3"); // an unknown host: nothing to do
});
