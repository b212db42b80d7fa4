// Several web processes, one fleet (CORRAL_REDIS_URL): socket.io's Redis adapter carries
// broadcasts, acknowledged emits to rooms and server-side events between the processes.
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import type { Namespace, Server } from "socket.io";
import type { Services } from "./services/index.ts";
import {
  STATS_RANGES,
  type StatsHistoryView,
  type StatsRange,
  type SubjectKind,
  SUBJECT_KINDS,
} from "./services/stats-history.ts";

export interface Cluster {
  close(): Promise<void>;
}

/** Connects to Redis (failing at once, in one line, when it cannot) and installs the adapter. */
export async function joinCluster(
  io: Server,
  url: string,
  log: (line: string) => void = (l) => console.error(l),
): Promise<Cluster> {
  const pub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const sub = pub.duplicate();
  const where = new URL(url).host;
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (err) {
    pub.disconnect();
    sub.disconnect();
    throw new Error(
      `cannot reach Redis at ${where} (CORRAL_REDIS_URL): ${(err as Error).message}; start it or unset CORRAL_REDIS_URL`,
    );
  }
  // ioredis reconnects by itself; say so once per outage rather than once per retry.
  let down = false;
  for (const client of [pub, sub]) {
    client.on("error", (err: Error) => {
      if (!down) log(`corral-web: Redis at ${where}: ${err.message}; reconnecting`);
      down = true;
    });
    client.on("ready", () => (down = false));
  }
  io.adapter(createAdapter(pub, sub));
  return {
    async close() {
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

interface HistoryPeerEvents {
  "stats:history": (
    kind: SubjectKind,
    id: string,
    range: StatsRange,
    ack: (view: StatsHistoryView | null) => void,
  ) => void;
}

/**
 * A subject's stats history is asked of the other processes when its samples do not come to
 * this one (StatsHistoryService.history): one server-side request per graph opened, answered
 * within the adapter's request timeout or not at all.
 */
export function shareStatsHistory(io: Server, services: Services): void {
  const ns = io.of("/") as unknown as Namespace<
    Record<string, never>,
    Record<string, never>,
    HistoryPeerEvents
  >;
  ns.on("stats:history", (kind, id, range, ack) => {
    if (!SUBJECT_KINDS.includes(kind) || !(range in STATS_RANGES) || typeof id !== "string")
      return ack(null);
    services.statsHistory.ownHistory(kind, id, range).then(ack, () => ack(null));
  });
  services.statsHistory.askPeers(async (kind, id, range) =>
    (await ns.serverSideEmitWithAck("stats:history", kind, id, range)).filter(
      (v): v is StatsHistoryView => v !== null,
    ),
  );
}
