import assert from "node:assert/strict";
import { test } from "node:test";
import { samplePoint } from "../stats-point.ts";
import { graphLines, lastValue, mergeLive } from "./stats-merge.ts";

/** A stored 1 s point, as the server's ring keeps it: its whole second. */
const stored = (sec: number) => ({ ...samplePoint(sec, sec, sec), t: Math.floor(sec) });

test("history then the live samples after it: no duplicate of the history's last second", () => {
  const history = [stored(100.4), stored(101.4), stored(102.4)];
  // the live samples the page holds overlap the history's end (the watch's backfill)
  const live = [101.4, 102.4, 103.4, 104.4].map((s) => samplePoint(s, s, s));
  const merged = mergeLive(history, live);
  assert.deepEqual(
    merged.map((p) => p.t),
    [100, 101, 102, 103.4, 104.4],
  );
  assert.equal(merged.at(-1)?.cpu, 104.4);
});

test("minute points of a longer range, then every live second after the last minute", () => {
  const minutes = [stored(60), stored(120)];
  const live = [119.5, 120.5, 121.5].map((s) => samplePoint(s, 1, 2));
  assert.deepEqual(
    mergeLive(minutes, live).map((p) => p.t),
    [60, 120, 121.5],
  );
});

test("no history yet: the live samples alone; neither: nothing", () => {
  const live = [samplePoint(5.5, 3, 4)];
  assert.deepEqual(mergeLive([], live), live);
  assert.deepEqual(mergeLive([], []), []);
  assert.deepEqual(
    mergeLive([stored(7)], []).map((p) => p.t),
    [7],
  );
});

test("lines: every second as one CPU and one memory line; minutes add their peaks, dashed", () => {
  const points = [
    { ...samplePoint(60, 10, 100), cpuMax: 80, memMax: 300, netRx: 5, netTx: 6 },
    samplePoint(120.5, 20, 200),
  ];
  const seconds = graphLines(points, "15m");
  assert.deepEqual(seconds.t, [60, 120.5]);
  assert.deepEqual(
    seconds.cpu.map((l) => [l.values, l.dash ?? false]),
    [[[10, 20], false]],
  );
  assert.deepEqual(
    seconds.mem.map((l) => l.values),
    [[100, 200]],
  );
  const minutes = graphLines(points, "1h");
  // the average solid, the minute's peak dashed over it; a live point's peak is itself
  assert.deepEqual(
    minutes.cpu.map((l) => [l.values, l.dash ?? false]),
    [
      [[10, 20], false],
      [[80, 20], true],
    ],
  );
  assert.deepEqual(
    minutes.mem.map((l) => l.values),
    [
      [100, 200],
      [300, 200],
    ],
  );
  // a live point has no rates: a gap in the network line, not a drop to zero
  assert.deepEqual(
    minutes.net.map((l) => l.values),
    [
      [5, null],
      [6, null],
    ],
  );
});

test("the newest value of a line skips the gaps at its end, none when it has no value", () => {
  assert.equal(lastValue([1, 2, null, 3, null, null]), 3);
  assert.equal(lastValue([0, null]), 0);
  assert.equal(lastValue([null, null]), null);
  assert.equal(lastValue([]), null);
});
