// How many images, networks and volumes a host has, for its page. Images are in the database
// (each host reports them); networks and volumes live only on the host, so they are asked of
// its agent, and are null while it is offline or does not answer (the page says so).
import type { Db } from "../db.ts";
import type { AgentHub } from "../sockets/agent-hub.ts";

export interface HostResourceCounts {
  images: number;
  networks: number | null;
  volumes: number | null;
}

const ASK_TIMEOUT_MS = 5000;

export async function hostResourceCounts(
  db: Db,
  hub: AgentHub,
  hostId: string,
): Promise<HostResourceCounts> {
  // the database's status: with several web processes the agent may be on another one
  const online =
    (await db.host.findUnique({ where: { id: hostId }, select: { status: true } }))?.status ===
    "online";
  const [images, networks, volumes] = await Promise.all([
    db.image.count({ where: { hostId } }),
    online
      ? hub.command(hostId, { type: "networks.list" }, ASK_TIMEOUT_MS).then(
          (r) => r.networks.length,
          () => null,
        )
      : null,
    online
      ? hub.command(hostId, { type: "volumes.list" }, ASK_TIMEOUT_MS).then(
          (r) => r.volumes.length,
          () => null,
        )
      : null,
  ]);
  return { images, networks, volumes };
}
