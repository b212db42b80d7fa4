// Turns 1 Hz samples of one subject (a container or a host) into 1-minute points: CPU and
// memory as average and maximum, counters (network, block I/O) as rates. Pure and
// synchronous: the history service owns storage and timers.
import { samplePoint, type StatsPoint } from "../../stats-point.ts";

export const SUBJECT_KINDS = ["container", "host"] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/** One sample of a subject, whatever reported it (agent container stats, host stats). */
export interface Sample {
  timeMs: number;
  /** percent of one CPU (200 = two cores busy) */
  cpuPercent: number;
  memoryBytes: number;
  /** cumulative counters; absent when the subject has none */
  netRxBytes?: number;
  netTxBytes?: number;
  blockReadBytes?: number;
  blockWriteBytes?: number;
}

export const MINUTE_MS = 60_000;
/** A counter gap longer than this (agent away) says nothing about the rate of one minute. */
const MAX_RATE_GAP_MS = 5 * MINUTE_MS;

const COUNTERS = ["netRxBytes", "netTxBytes", "blockReadBytes", "blockWriteBytes"] as const;
type Counter = (typeof COUNTERS)[number];

interface Bucket {
  minute: number;
  n: number;
  cpuSum: number;
  cpuMax: number;
  memSum: number;
  memMax: number;
  /** bytes counted and seconds covered, per counter */
  delta: Record<Counter, number>;
  seconds: Record<Counter, number>;
}

interface Subject {
  bucket: Bucket | null;
  /** the previous sample's counters, to make deltas across minute edges */
  prev: Sample | null;
}

const zero = (): Record<Counter, number> => ({
  netRxBytes: 0,
  netTxBytes: 0,
  blockReadBytes: 0,
  blockWriteBytes: 0,
});

function close(b: Bucket): StatsPoint {
  const rate = (c: Counter) => (b.seconds[c] > 0 ? b.delta[c] / b.seconds[c] : null);
  return {
    t: (b.minute * MINUTE_MS) / 1000,
    cpu: b.cpuSum / b.n,
    cpuMax: b.cpuMax,
    mem: b.memSum / b.n,
    memMax: b.memMax,
    netRx: rate("netRxBytes"),
    netTx: rate("netTxBytes"),
    blockRead: rate("blockReadBytes"),
    blockWrite: rate("blockWriteBytes"),
  };
}

/** Minute buckets of many subjects, keyed by `kind:id`. */
export class MinuteDownsampler {
  private readonly subjects = new Map<string, Subject>();

  /** Adds a sample; returns the point of the minute it closed, if any. */
  add(key: string, s: Sample): StatsPoint | null {
    let sub = this.subjects.get(key);
    if (!sub) this.subjects.set(key, (sub = { bucket: null, prev: null }));
    // A sample older than the last (a late duplicate) would make negative time: dropped.
    if (sub.prev && s.timeMs <= sub.prev.timeMs) return null;
    const minute = Math.floor(s.timeMs / MINUTE_MS);
    let closed: StatsPoint | null = null;
    if (sub.bucket && sub.bucket.minute !== minute) {
      closed = close(sub.bucket);
      sub.bucket = null;
    }
    const b = (sub.bucket ??= {
      minute,
      n: 0,
      cpuSum: 0,
      cpuMax: 0,
      memSum: 0,
      memMax: 0,
      delta: zero(),
      seconds: zero(),
    });
    b.n++;
    b.cpuSum += s.cpuPercent;
    b.cpuMax = Math.max(b.cpuMax, s.cpuPercent);
    b.memSum += s.memoryBytes;
    b.memMax = Math.max(b.memMax, s.memoryBytes);
    const prev = sub.prev;
    if (prev && s.timeMs - prev.timeMs <= MAX_RATE_GAP_MS) {
      for (const c of COUNTERS) {
        const now = s[c];
        const before = prev[c];
        // A counter that went down was reset (the container restarted): that interval is skipped.
        if (now === undefined || before === undefined || now < before) continue;
        b.delta[c] += now - before;
        b.seconds[c] += (s.timeMs - prev.timeMs) / 1000;
      }
    }
    sub.prev = s;
    return closed;
  }

  /** The minute being filled (not closed yet), for reads that want the newest data. */
  open(key: string): StatsPoint | null {
    const b = this.subjects.get(key)?.bucket;
    return b ? close(b) : null;
  }

  /**
   * Closes every bucket of a minute before `nowMs` (subjects that stopped reporting) and
   * forgets subjects silent for longer than the rate gap. Returns the closed points by key.
   */
  closeIdle(nowMs: number): Array<[string, StatsPoint]> {
    const minute = Math.floor(nowMs / MINUTE_MS);
    const out: Array<[string, StatsPoint]> = [];
    for (const [key, sub] of this.subjects) {
      if (sub.bucket && sub.bucket.minute < minute) {
        out.push([key, close(sub.bucket)]);
        sub.bucket = null;
      }
      if (!sub.bucket && (!sub.prev || nowMs - sub.prev.timeMs > MAX_RATE_GAP_MS))
        this.subjects.delete(key);
    }
    return out;
  }

  /** Every open bucket, closed now (at shutdown). */
  drain(): Array<[string, StatsPoint]> {
    const out: Array<[string, StatsPoint]> = [];
    for (const [key, sub] of this.subjects) if (sub.bucket) out.push([key, close(sub.bucket)]);
    this.subjects.clear();
    return out;
  }
}

/**
 * The last minutes of CPU and memory at full rate, per subject, in typed arrays (12 bytes a
 * sample: 15 minutes of 10,000 containers is ~110 MB, where objects would be several times that).
 */
export class LiveRing {
  private readonly rings = new Map<
    string,
    { t: Uint32Array; cpu: Float32Array; mem: Float32Array; next: number; size: number }
  >();

  constructor(readonly capacity: number) {}

  add(key: string, s: Sample): void {
    let r = this.rings.get(key);
    if (!r) {
      const n = this.capacity;
      r = {
        t: new Uint32Array(n),
        cpu: new Float32Array(n),
        mem: new Float32Array(n),
        next: 0,
        size: 0,
      };
      this.rings.set(key, r);
    }
    const at = r.next;
    r.t[at] = Math.floor(s.timeMs / 1000);
    r.cpu[at] = s.cpuPercent;
    r.mem[at] = s.memoryBytes;
    r.next = (at + 1) % this.capacity;
    r.size = Math.min(r.size + 1, this.capacity);
  }

  /** Points since `sinceSec` (inclusive), oldest first. */
  read(key: string, sinceSec: number): StatsPoint[] {
    const r = this.rings.get(key);
    if (!r) return [];
    const out: StatsPoint[] = [];
    const first = (r.next - r.size + this.capacity) % this.capacity;
    for (let i = 0; i < r.size; i++) {
      const at = (first + i) % this.capacity;
      const t = r.t[at] as number;
      if (t < sinceSec) continue;
      out.push(samplePoint(t, r.cpu[at] as number, r.mem[at] as number));
    }
    return out;
  }

  /** Drops rings whose newest sample is older than `beforeSec`. */
  forgetOlder(beforeSec: number): void {
    for (const [key, r] of this.rings) {
      const newest = r.t[(r.next - 1 + this.capacity) % this.capacity] as number;
      if (newest < beforeSec) this.rings.delete(key);
    }
  }
}
