// A container's resource use as `docker stats` shows it, computed in one place (the daemon's
// stats route) for the CLI and the agent alike: cgroup counters, network bytes from the
// container's own network namespace, and CPU % over a real interval.
import { readFileSync } from "node:fs";
import type { CgroupStats, CgroupStatsReader } from "../cgroups/index.js";
import { UserError } from "../util/errors.js";

export interface NetworkStats {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

export interface ContainerStats extends CgroupStats {
  id: string;
  name: string;
  /** Per cent of one CPU over the interval (up to 100 × CPUs), as `docker stats`'s CPU %. */
  cpuPercent: number;
  /** Interfaces other than lo, summed (as Docker's NET I/O). */
  network: NetworkStats;
}

/**
 * Sums /proc/PID/net/dev, which shows the interfaces of the network namespace PID is in: read
 * from the host, it gives the container's counters without entering the namespace. Read
 * synchronously (a procfs read is served from kernel memory; fs/promises costs several times the
 * CPU in thread-pool round trips, see cgroups/files.ts), and opened anew each time: a kept
 * descriptor would keep the container's namespace alive after it exits.
 */
export function readNetworkStats(pid: number): NetworkStats {
  const totals: NetworkStats = { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 };
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/dev`, "utf8");
  } catch {
    return totals; // exited meanwhile
  }
  for (const line of text.split("\n").slice(2)) {
    const [name = "", counters = ""] = line.split(":");
    if (!counters || name.trim() === "lo") continue;
    const f = counters.trim().split(/\s+/).map(Number);
    totals.rxBytes += f[0] ?? 0;
    totals.rxPackets += f[1] ?? 0;
    totals.txBytes += f[8] ?? 0;
    totals.txPackets += f[9] ?? 0;
  }
  return totals;
}

interface Sample {
  usageNanos: number;
  at: number;
}

/** Docker's `stats --no-stream` takes its two samples a second apart. */
const PRIME_MS = 1000;
/** A previous sample at least this old gives a meaningful rate. */
const MIN_INTERVAL_MS = 500;
/** A previous sample older than this is stale: prime again. */
const MAX_INTERVAL_MS = 10_000;

/** Containers read between two turns of the event loop. */
const CHUNK = 20;

/**
 * `f` of each item, a chunk at a time, letting the event loop run between chunks: reading 200
 * containers is tens of milliseconds of synchronous reads (more on a loaded host), which would
 * otherwise hold up every exit and request behind it (event latency).
 */
async function settleInChunks<T, R>(
  items: readonly T[],
  f: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = [];
  for (let i = 0; i < items.length; i += CHUNK) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    out.push(...(await Promise.allSettled(items.slice(i, i + CHUNK).map(f))));
  }
  return out;
}

/** What the sampler needs of a container record. */
export interface StatsTarget {
  id: string;
  name: string;
  state: { pid: number; status: string };
}

export interface StatsSource {
  get(ref: string): StatsTarget;
  /** The running and paused containers. */
  list(all: false): StatsTarget[];
}

/** A sampled container: its cgroup's files kept open, its last two CPU samples. */
interface Tracked {
  pid: number;
  reader: CgroupStatsReader;
  latest?: Sample;
  previous?: Sample;
}

const sampled = (status: string): boolean => status === "running" || status === "paused";

/**
 * Samples containers, keeping the last two samples of each so that a CPU % always has an
 * interval: a client polling at 1 Hz (or two clients at once) waits for nothing, a one-off
 * request waits a second for its second sample. Each sampled container's cgroup files stay
 * open (one pread per file per sample) until it exits.
 */
export class StatsSampler {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly source: StatsSource,
    /** a container's cgroup files (under its runtime's cgroup parent: paths.ts) */
    private readonly openCgroup: (id: string) => CgroupStatsReader,
  ) {}

  /** One container's stats; 409 when it is not running. */
  async sample(ref: string): Promise<ContainerStats> {
    const r = this.source.get(ref);
    if (!sampled(r.state.status)) throw new UserError(`Container ${r.id} is not running`, 409);
    const [result] = await this.sampleEach([r]);
    if (result?.status === "rejected") throw result.reason;
    return (result as PromiseFulfilledResult<ContainerStats>).value;
  }

  /** Every running (or paused) container's stats; one that exits meanwhile is left out. */
  async sampleAll(): Promise<ContainerStats[]> {
    const records = this.source.list(false);
    const live = new Set(records.map((r) => r.id));
    for (const id of this.tracked.keys()) if (!live.has(id)) this.forget(id);
    const results = await this.sampleEach(records);
    return results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  }

  /** Closes a container's files and forgets its samples (it exited or was removed). */
  forget(id: string): void {
    this.tracked.get(id)?.reader.close();
    this.tracked.delete(id);
  }

  /** Reads each; the ones without a recent sample are read again a second later (once for all). */
  private async sampleEach(
    records: readonly StatsTarget[],
  ): Promise<PromiseSettledResult<ContainerStats>[]> {
    const first = await settleInChunks(records, (r) => this.readBoth(r));
    const bases = first.map((res, i) =>
      res.status === "fulfilled"
        ? this.base(records[i]!.id, Date.parse(res.value.stats.readAt))
        : undefined,
    );
    const unprimed = first.map((res, i) => res.status === "fulfilled" && !bases[i]);
    let results = first;
    if (unprimed.some(Boolean)) {
      first.forEach((res, i) => {
        if (unprimed[i] && res.status === "fulfilled")
          bases[i] = {
            usageNanos: res.value.stats.cpu.usageNanos,
            at: Date.parse(res.value.stats.readAt),
          };
      });
      await new Promise((resolve) => setTimeout(resolve, PRIME_MS));
      const again = await settleInChunks(
        records.filter((_, i) => unprimed[i]),
        (r) => this.readBoth(r),
      );
      let k = 0;
      results = first.map((res, i) => (unprimed[i] ? again[k++]! : res));
    }
    return results.map((res, i) => {
      if (res.status === "rejected") return res;
      const r = records[i]!;
      const { stats, network } = res.value;
      const now = Date.parse(stats.readAt);
      const base = bases[i]!;
      this.remember(r.id, { usageNanos: stats.cpu.usageNanos, at: now });
      const elapsedNanos = Math.max(1, (now - base.at) * 1e6);
      return {
        status: "fulfilled",
        value: {
          ...stats,
          id: r.id,
          name: r.name,
          cpuPercent: Math.max(0, ((stats.cpu.usageNanos - base.usageNanos) / elapsedNanos) * 100),
          network,
        },
      };
    });
  }

  /** A container's cgroup stats and its namespace's network counters, read together. */
  private async readBoth(r: StatsTarget): Promise<{ stats: CgroupStats; network: NetworkStats }> {
    const stats = await this.read(r);
    return { stats, network: readNetworkStats(r.state.pid) };
  }

  /** The container's cgroup stats through its kept-open files (reopened for a new process). */
  private read(r: StatsTarget): Promise<CgroupStats> {
    let t = this.tracked.get(r.id);
    if (t?.pid !== r.state.pid) {
      this.forget(r.id);
      t = { pid: r.state.pid, reader: this.openCgroup(r.id) };
      this.tracked.set(r.id, t);
    }
    return t.reader.read();
  }

  private base(id: string, now: number): Sample | undefined {
    const t = this.tracked.get(id);
    for (const candidate of [t?.latest, t?.previous]) {
      if (!candidate) continue;
      const age = now - candidate.at;
      if (age >= MIN_INTERVAL_MS && age <= MAX_INTERVAL_MS) return candidate;
    }
    return undefined;
  }

  private remember(id: string, sample: Sample): void {
    const t = this.tracked.get(id);
    if (!t) return;
    if (!t.latest) t.latest = sample;
    else if (sample.at - t.latest.at >= MIN_INTERVAL_MS) {
      t.previous = t.latest;
      t.latest = sample;
    }
  }
}
