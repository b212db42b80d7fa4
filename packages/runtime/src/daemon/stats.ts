// A container's resource use as `docker stats` shows it, computed in one place (the daemon's
// stats route) for the CLI and the agent alike: cgroup counters, network bytes from the
// container's own network namespace, and CPU % over a real interval.
import { readFile } from "node:fs/promises";
import type { CgroupStats } from "../cgroups/index.js";

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
 * from the host, it gives the container's counters without entering the namespace.
 */
export async function readNetworkStats(pid: number): Promise<NetworkStats> {
  const totals: NetworkStats = { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 };
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/net/dev`, "utf8");
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

export interface StatsSource {
  get(ref: string): { id: string; name: string; state: { pid: number } };
  stats(ref: string): Promise<CgroupStats>;
}

/**
 * Samples containers, keeping the last two samples of each so that a CPU % always has an
 * interval: a client polling at 1 Hz (or two clients at once) waits for nothing, a one-off
 * request waits a second for its second sample.
 */
export class StatsSampler {
  private readonly samples = new Map<string, { latest: Sample; previous?: Sample }>();

  constructor(private readonly source: StatsSource) {}

  async sample(ref: string): Promise<ContainerStats> {
    const r = this.source.get(ref);
    let stats = await this.source.stats(r.id);
    let now = Date.parse(stats.readAt);
    let base = this.base(r.id, now);
    if (!base) {
      base = { usageNanos: stats.cpu.usageNanos, at: now };
      await new Promise((resolve) => setTimeout(resolve, PRIME_MS));
      stats = await this.source.stats(r.id);
      now = Date.parse(stats.readAt);
    }
    this.remember(r.id, { usageNanos: stats.cpu.usageNanos, at: now });
    const elapsedNanos = Math.max(1, (now - base.at) * 1e6);
    return {
      ...stats,
      id: r.id,
      name: r.name,
      cpuPercent: Math.max(0, ((stats.cpu.usageNanos - base.usageNanos) / elapsedNanos) * 100),
      network: await readNetworkStats(r.state.pid),
    };
  }

  /** Forgets a container (removed). */
  forget(id: string): void {
    this.samples.delete(id);
  }

  private base(id: string, now: number): Sample | undefined {
    const s = this.samples.get(id);
    for (const candidate of [s?.latest, s?.previous]) {
      if (!candidate) continue;
      const age = now - candidate.at;
      if (age >= MIN_INTERVAL_MS && age <= MAX_INTERVAL_MS) return candidate;
    }
    return undefined;
  }

  private remember(id: string, sample: Sample): void {
    const s = this.samples.get(id);
    if (!s) this.samples.set(id, { latest: sample });
    else if (sample.at - s.latest.at >= MIN_INTERVAL_MS)
      this.samples.set(id, { latest: sample, previous: s.latest });
  }
}
