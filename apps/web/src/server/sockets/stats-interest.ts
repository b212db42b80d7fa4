// Which stats rooms some browser watches, on any web process (several processes:
// CORRAL_REDIS_URL): a container's 1 Hz stats (`stats:<id>`) and a host's own load
// (`hoststats:<id>`). A browser watches in a room of the process it reached; the samples arrive
// on the process the agent reached. Sending every sample of the fleet through Redis to every
// process would cost more than the rest of the fleet's traffic, so each process tells the
// others which stats rooms it has, when one appears and again every LEASE_MS / 3; a lease not
// renewed ends (a process that dies stops costing after LEASE_MS). A sample crosses Redis only
// while some other process watches it.
import { randomUUID } from "node:crypto";
import type { Namespace } from "socket.io";

const LEASE_MS = 30_000;

interface PeerEvents {
  "stats:lease": (from: string, rooms: string[]) => void;
  "stats:drop": (from: string, rooms: string[]) => void;
}

export class StatsInterest {
  /** room -> process -> when its lease ends */
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly self = randomUUID();
  private readonly renew: NodeJS.Timeout;
  private readonly ns: Namespace<Record<string, never>, Record<string, never>, PeerEvents>;

  /**
   * Leases the rooms whose names start with one of `prefixes`. `onNewWatch`: another process
   * started watching a room (to send it the last samples).
   */
  constructor(anyNs: Namespace, prefixes: readonly string[], onNewWatch: (room: string) => void) {
    this.ns = anyNs as unknown as typeof this.ns;
    const ours = (rooms: Iterable<string>): string[] =>
      [...rooms].filter((room) => prefixes.some((p) => room.startsWith(p)));
    anyNs.adapter.on("create-room", (room: string) => this.send("stats:lease", ours([room])));
    anyNs.adapter.on("delete-room", (room: string) => this.send("stats:drop", ours([room])));
    this.renew = setInterval(() => {
      this.send("stats:lease", ours(anyNs.adapter.rooms.keys()));
    }, LEASE_MS / 3);
    this.renew.unref();
    this.ns.on("stats:lease", (from, list) => {
      for (const room of ours(list)) {
        let byProcess = this.leases.get(room);
        if (!byProcess) this.leases.set(room, (byProcess = new Map()));
        const fresh = (byProcess.get(from) ?? 0) < Date.now();
        byProcess.set(from, Date.now() + LEASE_MS);
        if (fresh) onNewWatch(room);
      }
    });
    this.ns.on("stats:drop", (from, list) => {
      for (const room of list) {
        const byProcess = this.leases.get(room);
        byProcess?.delete(from);
        if (byProcess?.size === 0) this.leases.delete(room);
      }
    });
  }

  /** Whether a browser on another process is in this stats room. */
  watchedElsewhere(room: string): boolean {
    const byProcess = this.leases.get(room);
    if (!byProcess) return false;
    const now = Date.now();
    for (const [from, until] of byProcess) if (until < now) byProcess.delete(from);
    if (byProcess.size === 0) this.leases.delete(room);
    return byProcess.size > 0;
  }

  close(): void {
    clearInterval(this.renew);
  }

  private send(event: keyof PeerEvents, rooms: string[]): void {
    if (rooms.length) this.ns.serverSideEmit(event, this.self, rooms);
  }
}
