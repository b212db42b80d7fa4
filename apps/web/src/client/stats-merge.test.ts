import assert from "node:assert/strict";
import { test } from "node:test";
import { livePoint, mergeLive } from "./stats-merge.ts";

/** A stored 1 s point, as the server's ring keeps it: its whole second. */
const stored = (sec: number) => ({ ...livePoint(sec, sec, sec), t: Math.floor(sec) });

test("history then the live samples after it: no duplicate of the history's last second", () => {
  const history = [stored(100.4), stored(101.4), stored(102.4)];
  // the live samples the page holds overlap the history's end (the watch's backfill)
  const live = [101.4, 102.4, 103.4, 104.4].map((s) => livePoint(s, s, s));
  const merged = mergeLive(history, live);
  assert.deepEqual(
    merged.map((p) => p.t),
    [100, 101, 102, 103.4, 104.4],
  );
  assert.equal(merged.at(-1)?.cpu, 104.4);
});

test("minute points of a longer range, then every live second after the last minute", () => {
  const minutes = [stored(60), stored(120)];
  const live = [119.5, 120.5, 121.5].map((s) => livePoint(s, 1, 2));
  assert.deepEqual(
    mergeLive(minutes, live).map((p) => p.t),
    [60, 120, 121.5],
  );
});

test("no history yet: the live samples alone; neither: nothing", () => {
  const live = [livePoint(5.5, 3, 4)];
  assert.deepEqual(mergeLive([], live), live);
  assert.deepEqual(mergeLive([], []), []);
  assert.deepEqual(
    mergeLive([stored(7)], []).map((p) => p.t),
    [7],
  );
});
