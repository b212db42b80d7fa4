// The last stats sample of each running container of the hosts connected to this process, for
// /metrics and for a browser that starts watching one. Kept per host: a host's snapshot or
// disconnect forgets its containers' samples without walking every other host's (a reconnect
// storm of 1,000 hosts walked 1,000 × 50,000 entries that way).
import type { StatsSample } from "@corral/protocol";

export class LastSamples {
  private readonly byHost = new Map<string, Map<string, StatsSample>>();
  private readonly hostOf = new Map<string, string>();

  set(hostId: string, sample: StatsSample): void {
    let samples = this.byHost.get(hostId);
    if (!samples) this.byHost.set(hostId, (samples = new Map()));
    samples.set(sample.id, sample);
    this.hostOf.set(sample.id, hostId);
  }

  get(containerId: string): StatsSample | undefined {
    const hostId = this.hostOf.get(containerId);
    return hostId === undefined ? undefined : this.byHost.get(hostId)?.get(containerId);
  }

  /** Every sample, with its host. */
  *entries(): IterableIterator<[hostId: string, sample: StatsSample]> {
    for (const [hostId, samples] of this.byHost)
      for (const sample of samples.values()) yield [hostId, sample];
  }

  delete(containerId: string): void {
    const hostId = this.hostOf.get(containerId);
    if (hostId === undefined) return;
    this.hostOf.delete(containerId);
    const samples = this.byHost.get(hostId);
    samples?.delete(containerId);
    if (samples?.size === 0) this.byHost.delete(hostId);
  }

  /** Forgets a host's samples: all of them, or those `which` picks. */
  forget(hostId: string, which: (containerId: string) => boolean = () => true): void {
    const samples = this.byHost.get(hostId);
    if (!samples) return;
    for (const id of samples.keys()) if (which(id)) this.delete(id);
  }
}
