// Several web processes, one fleet (CORRAL_REDIS_URL): socket.io's Redis adapter carries
// broadcasts, acknowledged emits to rooms and server-side events between the processes.
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import type { Server } from "socket.io";

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
