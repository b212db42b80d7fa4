// Which containers' 1 Hz stats some browser watches, on any web process (several processes:
// CORRAL_REDIS_URL). A browser watches in a room (`stats:<id>`) of the process it reached;
// the samples arrive on the process the container's agent reached. Sending every sample of
// the fleet through Redis to every process would cost more than the rest of the fleet's
// traffic, so each process tells the others which stats rooms it has, when one appears and
// again every LEASE_MS / 3; a lease not renewed ends (a process that dies stops costing after
// LEASE_MS). A sample crosses Redis only while some other process watches it.
import { randomUUID } from "node:crypto";
import type { Namespace } from "socket.io";

const LEASE_MS = 30_000;

interface PeerEvents {
  "stats:lease": (from: string, ids: string[]) => void;
  "stats:drop": (from: string, ids: string[]) => void;
}

export class StatsInterest {
  /** container id -> process -> when its lease ends */
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly self = randomUUID();
  private readonly renew: NodeJS.Timeout;
  private readonly ns: Namespace<Record<string, never>, Record<string, never>, PeerEvents>;

  /** `onNewWatch`: another process started watching a container (to send it the last sample). */
  constructor(
    anyNs: Namespace,
    private readonly prefix: string,
    onNewWatch: (containerId: string) => void,
  ) {
    this.ns = anyNs as unknown as typeof this.ns;
    const ids = (room: string): string[] =>
      room.startsWith(prefix) ? [room.slice(prefix.length)] : [];
    anyNs.adapter.on("create-room", (room: string) => this.send("stats:lease", ids(room)));
    anyNs.adapter.on("delete-room", (room: string) => this.send("stats:drop", ids(room)));
    this.renew = setInterval(() => {
      this.send("stats:lease", [...anyNs.adapter.rooms.keys()].flatMap(ids));
    }, LEASE_MS / 3);
    this.renew.unref();
    this.ns.on("stats:lease", (from, list) => {
      for (const id of list) {
        let byProcess = this.leases.get(id);
        if (!byProcess) this.leases.set(id, (byProcess = new Map()));
        const fresh = (byProcess.get(from) ?? 0) < Date.now();
        byProcess.set(from, Date.now() + LEASE_MS);
        if (fresh) onNewWatch(id);
      }
    });
    this.ns.on("stats:drop", (from, list) => {
      for (const id of list) {
        const byProcess = this.leases.get(id);
        byProcess?.delete(from);
        if (byProcess?.size === 0) this.leases.delete(id);
      }
    });
  }

  /** Whether a browser on another process watches this container's stats. */
  watchedElsewhere(containerId: string): boolean {
    const byProcess = this.leases.get(containerId);
    if (!byProcess) return false;
    const now = Date.now();
    for (const [from, until] of byProcess) if (until < now) byProcess.delete(from);
    if (byProcess.size === 0) this.leases.delete(containerId);
    return byProcess.size > 0;
  }

  close(): void {
    clearInterval(this.renew);
  }

  private send(event: keyof PeerEvents, ids: string[]): void {
    if (ids.length) this.ns.serverSideEmit(event, this.self, ids);
  }
}
