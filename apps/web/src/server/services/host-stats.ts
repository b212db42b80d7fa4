// The hosts' own 1 Hz load (CPU, memory, load average, disk), as their agents send it. Every
// sample the server receives goes through record(): the one place a stored, downsampled
// history of hosts plugs in. Until then only the last two minutes are kept, in memory, so a
// page that opens draws its graphs and sparklines at once instead of from empty.
import { EventEmitter } from "node:events";
import type { HostStatsSample } from "@corral/protocol";

/** Two minutes at 1 Hz per host. */
export const HOST_STATS_RECENT = 120;

export class HostStatsService {
  private readonly recentByHost = new Map<string, HostStatsSample[]>();
  readonly changes = new EventEmitter<{ sample: [hostId: string, sample: HostStatsSample] }>();

  record(hostId: string, sample: HostStatsSample): void {
    let list = this.recentByHost.get(hostId);
    if (!list) this.recentByHost.set(hostId, (list = []));
    const last = list.at(-1);
    // a sample older than the last (a clock step on the host) would draw backwards: dropped
    if (last && Date.parse(sample.time) <= Date.parse(last.time)) return;
    list.push(sample);
    if (list.length > HOST_STATS_RECENT) list.splice(0, list.length - HOST_STATS_RECENT);
    this.changes.emit("sample", hostId, sample);
  }

  /** The host's last samples, oldest first (empty when it sent none lately). */
  recent(hostId: string): HostStatsSample[] {
    return [...(this.recentByHost.get(hostId) ?? [])];
  }

  /** The host's latest sample, if any. */
  latest(hostId: string): HostStatsSample | undefined {
    return this.recentByHost.get(hostId)?.at(-1);
  }

  /** A host that went offline or was removed: its last load is not "now" any more. */
  forget(hostId: string): void {
    this.recentByHost.delete(hostId);
  }
}
