// 1 Hz stats of running containers: cgroup counters from the runtime daemon's stats route,
// network counters from the container's network namespace (/proc/<pid>/net/dev, readable by
// the root agent without entering it). CPU % is computed here from two samples.
import { readFile } from "node:fs/promises";
import type { StatsSample } from "@corral/protocol";
import type { CgroupStats, RuntimeClient } from "@corral/runtime";

/** rx/tx bytes summed over every interface but lo, from a /proc/net/dev text. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    if (line.slice(0, colon).trim() === "lo") continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

export class StatsSampler {
  private readonly previous = new Map<string, { cpu: number; at: number }>();

  constructor(private readonly client: RuntimeClient) {}

  /** One sample per container; a container that stopped meanwhile is skipped. */
  async sample(running: ReadonlyMap<string, number>): Promise<StatsSample[]> {
    for (const id of this.previous.keys()) if (!running.has(id)) this.previous.delete(id);
    const samples = await Promise.all(
      [...running].map(([id, pid]) => this.one(id, pid).catch(() => undefined)),
    );
    return samples.filter((s): s is StatsSample => s !== undefined);
  }

  private async one(id: string, pid: number): Promise<StatsSample> {
    const [s, net] = await Promise.all([
      this.client.call<CgroupStats>("GET", `/v1/containers/${id}/stats`),
      readFile(`/proc/${pid}/net/dev`, "utf8")
        .then(parseNetDev)
        .catch(() => ({ rx: 0, tx: 0 })),
    ]);
    const now = performance.now();
    const prev = this.previous.get(id);
    this.previous.set(id, { cpu: s.cpu.usageNanos, at: now });
    const cpuPercent =
      prev && now > prev.at
        ? Math.max(0, ((s.cpu.usageNanos - prev.cpu) / ((now - prev.at) * 1e6)) * 100)
        : 0;
    return {
      id,
      time: s.readAt,
      cpuPercent,
      cpuUsageNanos: s.cpu.usageNanos,
      memoryUsageBytes: s.memory.usageBytes,
      memoryWorkingSetBytes: s.memory.workingSetBytes,
      memoryLimitBytes: s.memory.limitBytes,
      netRxBytes: net.rx,
      netTxBytes: net.tx,
      blockReadBytes: s.io?.readBytes ?? 0,
      blockWriteBytes: s.io?.writeBytes ?? 0,
      pids: s.pids.current,
    };
  }
}
