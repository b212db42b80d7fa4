// The downsampler's arithmetic: minute edges, averages and maxima, counter rates across edges
// and resets, late samples, idle subjects; the full-rate ring's wrap-around.
import assert from "node:assert/strict";
import { test } from "node:test";
import { samplePoint } from "../../stats-point.ts";
import { LiveRing, MinuteDownsampler, type Sample } from "./stats-downsample.ts";

const T0 = Date.UTC(2026, 11, 3, 0, 0, 0);
const at = (sec: number, over: Partial<Sample> = {}): Sample => ({
  timeMs: T0 + sec * 1000,
  cpuPercent: 10,
  memoryBytes: 1000,
  ...over,
});

test("a minute closes when the first sample of the next arrives: average and maximum", () => {
  const d = new MinuteDownsampler();
  for (let s = 0; s < 60; s++) {
    assert.equal(
      d.add("c:a", at(s, { cpuPercent: s === 30 ? 90 : 10, memoryBytes: 1000 + s })),
      null,
    );
  }
  const p = d.add("c:a", at(60));
  assert.ok(p);
  assert.equal(p.t, T0 / 1000);
  assert.equal(p.cpuMax, 90);
  assert.ok(Math.abs(p.cpu - (59 * 10 + 90) / 60) < 1e-9);
  assert.equal(p.memMax, 1059);
  assert.equal(p.mem, 1000 + 59 / 2);
  // no counters were reported: no rates, not zero rates
  assert.equal(p.netRx, null);
  assert.equal(p.blockWrite, null);
});

test("counter rates use the samples' own times, across the minute edge, and skip a reset", () => {
  const d = new MinuteDownsampler();
  // 1000 B/s received; the minute starts at its first sample after the previous minute's last
  d.add("c:a", at(-1, { netRxBytes: 0 }));
  for (let s = 0; s < 60; s++) d.add("c:a", at(s, { netRxBytes: (s + 1) * 1000 }));
  const p = d.add("c:a", at(60, { netRxBytes: 61_000 }));
  assert.equal(p?.netRx, 1000);
  // the container restarted: its counter starts again at 0, that interval says nothing
  d.add("c:a", at(61, { netRxBytes: 5 }));
  d.add("c:a", at(62, { netRxBytes: 505 }));
  const q = d.add("c:a", at(120, { netRxBytes: 505 }));
  // minute 1: 59 → 60 s 1000 B, 60 → 61 s the reset (skipped), 61 → 62 s 500 B: 1500 B in 2 s
  assert.ok(q);
  assert.equal(q.netRx, 750);
});

test("late or repeated samples are dropped; subjects keep apart", () => {
  const d = new MinuteDownsampler();
  d.add("c:a", at(10, { cpuPercent: 50 }));
  assert.equal(d.add("c:a", at(10, { cpuPercent: 999 })), null);
  assert.equal(d.add("c:a", at(5, { cpuPercent: 999 })), null);
  d.add("h:a", at(11, { cpuPercent: 1 }));
  assert.equal(d.open("c:a")?.cpuMax, 50);
  assert.equal(d.open("h:a")?.cpuMax, 1);
});

test("closeIdle ends the minutes of subjects that went quiet, and forgets them later", () => {
  const d = new MinuteDownsampler();
  d.add("c:a", at(5));
  assert.deepEqual(d.closeIdle(T0 + 30_000), [], "the minute is still going");
  const closed = d.closeIdle(T0 + 61_000);
  assert.equal(closed.length, 1);
  assert.equal(closed[0]?.[0], "c:a");
  assert.equal(d.open("c:a"), null);
  assert.deepEqual(d.closeIdle(T0 + 3_600_000), []);
  // forgotten: its next sample starts fresh (no rate from an hour-old counter)
  d.add("c:a", at(3600, { netRxBytes: 1e9 }));
  assert.equal(d.open("c:a")?.netRx, null);
});

test("drain closes every open minute", () => {
  const d = new MinuteDownsampler();
  d.add("c:a", at(1));
  d.add("c:b", at(2));
  assert.deepEqual(
    d
      .drain()
      .map(([k]) => k)
      .sort(),
    ["c:a", "c:b"],
  );
  assert.deepEqual(d.drain(), []);
});

test("the live ring keeps the newest samples in order and reads from a time on", () => {
  const r = new LiveRing(5);
  for (let s = 0; s < 8; s++) r.add("c:a", at(s, { cpuPercent: s }));
  const all = r.read("c:a", 0);
  assert.deepEqual(
    all.map((p) => p.cpu),
    [3, 4, 5, 6, 7],
  );
  assert.deepEqual(
    r.read("c:a", T0 / 1000 + 6).map((p) => p.cpu),
    [6, 7],
  );
  assert.deepEqual(r.read("c:b", 0), []);
  r.forgetOlder(T0 / 1000 + 100);
  assert.deepEqual(r.read("c:a", 0), []);
});

test("the live ring's points are the pages' live points, at the sample's whole second", () => {
  const r = new LiveRing(3);
  // a sample 0.6 s into its second, 12.5 % of a CPU, 3 MiB: exact in the ring's Float32Array
  r.add("h:a", at(7.6, { cpuPercent: 12.5, memoryBytes: 3 * 1024 * 1024 }));
  // the page draws the same sample pushed live as samplePoint(7.6 s, …): the stored copy is
  // that point at its whole second (what mergeLive relies on), with no rates and peak = value
  assert.deepEqual(r.read("h:a", 0), [samplePoint(T0 / 1000 + 7, 12.5, 3 * 1024 * 1024)]);
  assert.deepEqual(r.read("h:a", 0)[0], {
    t: T0 / 1000 + 7,
    cpu: 12.5,
    cpuMax: 12.5,
    mem: 3 * 1024 * 1024,
    memMax: 3 * 1024 * 1024,
    netRx: null,
    netTx: null,
    blockRead: null,
    blockWrite: null,
  });
});
