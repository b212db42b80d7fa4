// Lists the agents keep no copy of in the database (networks, volumes): asked of each host when
// a page opens. With one host, an offline one is a 409 as for any command; across the fleet,
// offline hosts are named in `unreachable` and the rest still answer.
import type { Db } from "../db.ts";
import { notFound, toAppError } from "../errors.ts";
import type { AgentHub } from "../sockets/agent-hub.ts";

export interface Unreachable {
  hostId: string;
  name: string;
  error: string;
}

export interface FleetList<T> {
  items: T[];
  unreachable: Unreachable[];
}

/** The host's row (404 when unknown or revoked). */
export async function requireHost(db: Db, hostId: string): Promise<{ id: string; name: string }> {
  const h = await db.host.findFirst({ where: { id: hostId, revokedAt: null } });
  if (!h) throw notFound(`no host ${hostId}`);
  return h;
}

export async function acrossHosts<T>(
  db: Db,
  hub: AgentHub,
  hostId: string | undefined,
  ask: (hostId: string) => Promise<T[]>,
): Promise<FleetList<T>> {
  if (hostId !== undefined) {
    await requireHost(db, hostId);
    return { items: await ask(hostId), unreachable: [] };
  }
  const hosts = await db.host.findMany({ where: { revokedAt: null }, orderBy: { name: "asc" } });
  const answers = await Promise.allSettled(
    // the database's status, not this process's connections: with several web processes
    // (CORRAL_REDIS_URL) the agent may be on another one, and the command reaches it there
    hosts.map((h) =>
      h.status === "online" ? ask(h.id) : Promise.reject(new Error("offline: start its agent")),
    ),
  );
  const items: T[] = [];
  const unreachable: Unreachable[] = [];
  answers.forEach((a, i) => {
    const h = hosts[i] as (typeof hosts)[number];
    if (a.status === "fulfilled") items.push(...a.value);
    else unreachable.push({ hostId: h.id, name: h.name, error: toAppError(a.reason).message });
  });
  return { items, unreachable };
}
