// Hosts: joining (join token -> credential), online/offline, draining and removal, and applying
// what agents report (snapshots and numbered deltas) to the database, recording the events it
// implies.
import { createHash } from "node:crypto";
import {
  MANAGED_BY_WEB,
  MANAGED_LABEL,
  type ContainerEvent,
  type ContainerInfo,
  type Delta,
  type HostFacts,
  type ImageInfo,
  type JoinRequest,
  type Snapshot,
} from "@corral/protocol";
import type { Db } from "../db.ts";
import type { AuditService } from "./audit.ts";
import { AppError, conflict, notFound } from "../errors.ts";
import { hashSecret, newSecret } from "../tokens.ts";
import type { Host, Prisma } from "../../generated/prisma/client.ts";

export interface HostView {
  id: string;
  name: string;
  status: "online" | "offline";
  lastSeenAt: string | null;
  agentVersion: string;
  facts: Partial<HostFacts>;
  createdAt: string;
  /** set while no new container may be placed on it */
  draining: { since: string; reason: string } | null;
  /** `unknown`: while the host is offline nobody knows which still run (then running is 0) */
  containers: { running: number; total: number; unknown: number };
}

/** The 409 for a container placed on a draining host. */
export function drainingError(h: Pick<Host, "name" | "drainReason">): AppError {
  const why = h.drainReason || "an admin stopped placing new containers on it";
  return conflict(`host ${h.name} is draining: ${why}; undrain it or choose another host`);
}

type Tx = Prisma.TransactionClient;

/** A host's report of a container as its database row (one mapping for every writer). */
export function containerRow(hostId: string, c: ContainerInfo) {
  return {
    hostId,
    name: c.name,
    image: c.image,
    imageId: c.imageId,
    command: JSON.stringify(c.command),
    state: c.state,
    pid: c.pid,
    exitCode: c.exitCode,
    oomKilled: c.oomKilled,
    error: c.error,
    restartCount: c.restartCount,
    restartPolicy: c.restartPolicy,
    createdAt: c.created,
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
    labels: JSON.stringify(c.labels),
    ports: JSON.stringify(c.ports),
    env: JSON.stringify(c.env ?? []),
    memoryLimit: c.memoryLimitBytes,
    cpus: c.cpus,
    managed: c.labels[MANAGED_LABEL] === MANAGED_BY_WEB,
    reportedAt: new Date(),
  };
}

/**
 * What a snapshot reports, as a hash: its containers and images in id order (the agent's list
 * order is not promised), not its facts (a disk's free bytes change all the time).
 */
export function hashSnapshot(s: Snapshot): string {
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const text = JSON.stringify([s.containers.toSorted(byId), s.images.toSorted(byId)]);
  return createHash("sha256").update(text).digest("hex");
}

/** Whether a stored row already says what a report says (reportedAt aside). */
function sameContainer(
  row: Record<string, unknown>,
  report: ReturnType<typeof containerRow>,
): boolean {
  return Object.entries(report).every(([k, v]) => k === "reportedAt" || row[k] === v);
}

/** A valid time from the runtime's ISO strings ("0001-..." means never). */
function when(iso: string): Date {
  const t = Date.parse(iso);
  return Number.isFinite(t) && t > 0 ? new Date(t) : new Date();
}

/** A host row (with its containers' states) as the API and the pages show it. */
function hostView(h: Host & { containers: { state: string }[] }): HostView {
  const online = h.status === "online";
  return {
    id: h.id,
    name: h.name,
    status: online ? "online" : "offline",
    lastSeenAt: h.lastSeenAt?.toISOString() ?? null,
    agentVersion: h.agentVersion,
    facts: JSON.parse(h.facts) as Partial<HostFacts>,
    createdAt: h.createdAt.toISOString(),
    draining: h.drainingAt ? { since: h.drainingAt.toISOString(), reason: h.drainReason } : null,
    containers: {
      running: online ? h.containers.filter((c) => c.state === "running").length : 0,
      total: h.containers.length,
      unknown: online ? 0 : h.containers.length,
    },
  };
}

export class HostService {
  constructor(
    private readonly db: Db,
    /** records join tokens and joins (scripts that only read may leave it out) */
    private readonly audit?: AuditService,
  ) {}

  async list(): Promise<HostView[]> {
    const hosts = await this.db.host.findMany({
      where: { revokedAt: null },
      orderBy: { name: "asc" },
      include: { containers: { select: { state: true } } },
    });
    return hosts.map(hostView);
  }

  /** One host (its own row and containers: every change of a host is pushed with this). */
  async get(id: string): Promise<HostView> {
    const h = await this.db.host.findFirst({
      where: { id, revokedAt: null },
      include: { containers: { select: { state: true } } },
    });
    if (!h) throw notFound(`no host ${id}`);
    return hostView(h);
  }

  /** Trades a join token (once) for a new host and its credential. */
  async join(req: JoinRequest, ip = ""): Promise<{ hostId: string; credential: string }> {
    const credential = newSecret("chc");
    const joined = await this.db.$transaction(async (tx) => {
      const t = await tx.joinToken.findUnique({ where: { tokenHash: hashSecret(req.token) } });
      if (!t || t.usedAt || t.revokedAt || t.expiresAt < new Date()) {
        throw new AppError(401, "join token unknown, used or expired: make a new one");
      }
      const host = await tx.host.create({
        data: {
          name: req.name,
          credentialHash: hashSecret(credential),
          facts: JSON.stringify(req.facts),
          agentVersion: req.facts.agentVersion,
        },
      });
      // Claimed only if still unused: two agents racing with one token cannot both join.
      const claimed = await tx.joinToken.updateMany({
        where: { id: t.id, usedAt: null },
        data: { usedAt: new Date(), hostId: host.id },
      });
      if (claimed.count !== 1) throw new AppError(401, "join token already used: make a new one");
      return { hostId: host.id, credential, tokenId: t.id };
    });
    await this.audit?.record({ userId: null, ip }, "host.join", joined.hostId, {
      name: req.name,
      joinToken: joined.tokenId,
    });
    return { hostId: joined.hostId, credential };
  }

  async authenticateAgent(
    hostId: string,
    credential: string,
  ): Promise<"ok" | "revoked" | "unknown"> {
    const h = await this.db.host.findUnique({ where: { credentialHash: hashSecret(credential) } });
    if (!h || h.id !== hostId) return "unknown";
    return h.revokedAt ? "revoked" : "ok";
  }

  /** Stops placing new containers on a host; what runs there keeps running. */
  async drain(hostId: string, reason: string): Promise<HostView> {
    await this.present(hostId);
    await this.db.host.update({
      where: { id: hostId },
      data: { drainingAt: new Date(), drainReason: reason },
    });
    return this.get(hostId);
  }

  async undrain(hostId: string): Promise<HostView> {
    await this.present(hostId);
    await this.db.host.update({
      where: { id: hostId },
      data: { drainingAt: null, drainReason: "" },
    });
    return this.get(hostId);
  }

  /**
   * Removes a host from the fleet: its credential is refused from now on (its agent exits),
   * its containers, images and events are forgotten. Nothing on the machine is touched: its
   * containers keep running there. The row stays, without any of that, as the tombstone that
   * tells its agent it was revoked (rather than unknown).
   */
  async remove(hostId: string): Promise<{ name: string; containers: number }> {
    const h = await this.present(hostId);
    const [, containers] = await this.db.$transaction([
      this.db.host.update({
        where: { id: hostId },
        data: {
          revokedAt: new Date(),
          status: "offline",
          connectionId: null,
          drainingAt: null,
          drainReason: "",
        },
      }),
      this.db.container.deleteMany({ where: { hostId } }),
      this.db.image.deleteMany({ where: { hostId } }),
      this.db.event.deleteMany({ where: { hostId } }),
    ]);
    return { name: h.name, containers: containers.count };
  }

  /** A host of the fleet (not removed), or 404. */
  private async present(hostId: string): Promise<Host> {
    const h = await this.db.host.findFirst({ where: { id: hostId, revokedAt: null } });
    if (!h) throw notFound(`no host ${hostId}`);
    return h;
  }

  /** Nobody is connected when the server starts. */
  async markAllOffline(): Promise<void> {
    await this.db.host.updateMany({
      where: { status: "online" },
      data: { status: "offline", connectionId: null },
    });
  }

  /**
   * The host's agent connected (`connectionId`: its socket's id, unique across web processes;
   * `openedAt`: when that connection was opened): from now on only that connection's close
   * marks the host offline (markOffline). A connection opened before the one the host names
   * (its online write delayed until after its agent's reconnect was stored) changes nothing
   * while the host is online: returns whether the host is now this connection's.
   */
  async markOnline(
    hostId: string,
    agentVersion: string,
    connectionId: string,
    openedAt = new Date(),
  ): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const r = await tx.host.updateMany({
        // (only while online: a clock set back cannot keep an offline host from coming back)
        where: {
          id: hostId,
          OR: [{ status: "offline" }, { connectedAt: null }, { connectedAt: { lte: openedAt } }],
        },
        data: {
          status: "online",
          connectionId,
          connectedAt: openedAt,
          lastSeenAt: new Date(),
          agentVersion,
        },
      });
      if (r.count === 0) return false;
      await tx.event.create({ data: { hostId, type: "host-online", time: new Date() } });
      return true;
    });
  }

  /**
   * The connection `connectionId` closed: the host goes offline if it is still that
   * connection's. When its agent has already reconnected (to this web process or another) the
   * row names the new connection and nothing changes; no question to the other processes is
   * needed. Returns whether the host went offline.
   */
  async markOffline(hostId: string, connectionId: string): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      // A removed host's agent is cut off after its rows are gone: no event for it then.
      const r = await tx.host.updateMany({
        where: { id: hostId, connectionId, revokedAt: null },
        data: { status: "offline", connectionId: null },
      });
      if (r.count === 0) return false;
      await tx.event.create({ data: { hostId, type: "host-offline", time: new Date() } });
      return true;
    });
  }

  /**
   * Hosts still "online" whose agent has not been heard from (on any web process) since
   * `before`: with several processes, one that died cannot mark its hosts offline. Each is
   * changed at most once however many processes sweep; returns the hosts it changed.
   */
  async markSilentOffline(before: Date, except: ReadonlySet<string>): Promise<string[]> {
    const silent = await this.db.host.findMany({
      where: { status: "online", lastSeenAt: { lt: before } },
      select: { id: true },
    });
    const changed: string[] = [];
    for (const { id } of silent) {
      if (except.has(id)) continue;
      const done = await this.db.$transaction(async (tx) => {
        const r = await tx.host.updateMany({
          where: { id, status: "online", lastSeenAt: { lt: before } },
          data: { status: "offline", connectionId: null },
        });
        if (r.count !== 1) return false;
        await tx.event.create({ data: { hostId: id, type: "host-offline", time: new Date() } });
        return true;
      });
      if (done) changed.push(id);
    }
    return changed;
  }

  /** The hosts' agents were heard from now (their heartbeats, batched by the hub). */
  async touch(hostIds: readonly string[]): Promise<void> {
    await this.db.host.updateMany({
      where: { id: { in: [...hostIds] } },
      data: { lastSeenAt: new Date() },
    });
  }

  /**
   * A full snapshot replaces the host's containers and images. What changed while nobody
   * listened (an exit while the agent was down, a container removed) becomes events here.
   * "unchanged" when it reports exactly what the last snapshot stored did and nothing changed
   * the rows since (the host's snapshotHash): then only the host's own row is written, one
   * UPDATE, which is most of a reconnect storm.
   */
  async applySnapshot(hostId: string, s: Snapshot): Promise<"changed" | "unchanged"> {
    const snapshotHash = hashSnapshot(s);
    const hostData = {
      facts: JSON.stringify(s.facts),
      stateEpoch: s.version.epoch,
      stateSeq: s.version.seq,
      lastSeenAt: new Date(),
    };
    const same = await this.db.host.updateMany({
      where: { id: hostId, revokedAt: null, snapshotHash },
      data: hostData,
    });
    if (same.count === 1) return "unchanged";
    const stored = await this.db.$transaction(async (tx) => {
      await this.lockHost(tx, hostId);
      // removed while its snapshot waited in line: nothing of it comes back
      if (!(await tx.host.findFirst({ where: { id: hostId, revokedAt: null } }))) return false;
      const before = new Map(
        (await tx.container.findMany({ where: { hostId } })).map((c) => [c.id, c]),
      );
      for (const c of s.containers) {
        const old = before.get(c.id);
        before.delete(c.id);
        if (!old) {
          await this.recordEvent(tx, hostId, c.id, { type: "create", time: c.created });
        } else if (
          (old.state === "running" || old.state === "paused") &&
          (c.state === "exited" || c.state === "dead")
        ) {
          await this.recordEvent(tx, hostId, c.id, {
            type: "die",
            time: c.finishedAt,
            exitCode: c.exitCode ?? undefined,
            oomKilled: c.oomKilled,
            message: "exited while the agent was away",
          });
        } else if (old.state !== "running" && c.state === "running") {
          await this.recordEvent(tx, hostId, c.id, { type: "start", time: c.startedAt });
        }
        // A reconnect usually changes nothing: no write then (the storm after a server
        // restart is all snapshots).
        if (!old || !sameContainer(old, containerRow(hostId, c))) {
          await this.upsertContainer(tx, hostId, c);
        }
      }
      for (const gone of before.keys()) {
        await tx.container.delete({ where: { id: gone } });
        await this.recordEvent(tx, hostId, gone, {
          type: "destroy",
          time: new Date().toISOString(),
        });
      }
      const images = await tx.image.findMany({
        where: { hostId },
        select: { imageId: true, repoTags: true },
      });
      const known = images
        .map((i) => i.imageId + i.repoTags)
        .sort()
        .join();
      const reported = s.images
        .map((i) => i.id + JSON.stringify(i.repoTags))
        .sort()
        .join();
      if (known !== reported) await this.replaceImages(tx, hostId, s.images);
      await tx.host.update({ where: { id: hostId }, data: { ...hostData, snapshotHash } });
      return true;
    });
    return stored ? "changed" : "unchanged";
  }

  /** Applies a delta in order; "gap" when one was missed (the caller asks for a snapshot). */
  async applyDelta(hostId: string, d: Delta): Promise<"ok" | "gap"> {
    return this.db.$transaction(async (tx) => {
      await this.lockHost(tx, hostId);
      const h = await tx.host.findUnique({ where: { id: hostId } });
      if (!h) throw notFound(`no host ${hostId}`);
      if (h.revokedAt) return "ok"; // removed: what it still says is dropped
      if (h.stateEpoch !== d.version.epoch || d.version.seq !== h.stateSeq + 1) {
        // An old delta (seq at or below ours, same epoch) is a duplicate: ignore it.
        return h.stateEpoch === d.version.epoch && d.version.seq <= h.stateSeq ? "ok" : "gap";
      }
      const change = d.change;
      if (change.kind === "container") {
        const e = change.event;
        if (change.container) await this.upsertContainer(tx, hostId, change.container);
        else await tx.container.deleteMany({ where: { id: e.id, hostId } });
        await this.recordEvent(tx, hostId, e.id, {
          type: e.type,
          time: e.time,
          exitCode: e.exitCode,
          oomKilled: e.oomKilled,
          message: e.signal ? `signal ${e.signal}` : "",
        });
      } else if (change.kind === "images") {
        await this.replaceImages(tx, hostId, change.images);
      } else {
        await tx.host.update({
          where: { id: hostId },
          data: { facts: JSON.stringify(change.facts) },
        });
      }
      await tx.host.update({
        where: { id: hostId },
        // the rows are no longer exactly the last snapshot's
        data: { stateSeq: d.version.seq, lastSeenAt: new Date(), snapshotHash: null },
      });
      return "ok";
    });
  }

  /**
   * Orders this transaction after any other one changing the host's state: an UPDATE holds
   * the row's lock until commit. PostgreSQL runs transactions side by side (two copies of one
   * delta would both see the old seq and both apply); SQLite has one writer anyway.
   */
  private async lockHost(tx: Tx, hostId: string): Promise<void> {
    await tx.host.updateMany({ where: { id: hostId }, data: { lastSeenAt: new Date() } });
  }

  private async upsertContainer(tx: Tx, hostId: string, c: ContainerInfo): Promise<void> {
    const row = containerRow(hostId, c);
    await tx.container.upsert({ where: { id: c.id }, create: { id: c.id, ...row }, update: row });
  }

  private async recordEvent(
    tx: Tx,
    hostId: string,
    containerId: string,
    e: {
      type: ContainerEvent["type"];
      time: string;
      exitCode?: number;
      oomKilled?: boolean;
      message?: string;
    },
  ): Promise<void> {
    await tx.event.create({
      data: {
        hostId,
        containerId,
        type: e.type,
        exitCode: e.exitCode ?? null,
        oomKilled: e.oomKilled ?? null,
        message: e.message ?? "",
        time: when(e.time),
      },
    });
  }

  private async replaceImages(tx: Tx, hostId: string, images: ImageInfo[]): Promise<void> {
    await tx.image.deleteMany({ where: { hostId } });
    if (images.length === 0) return;
    await tx.image.createMany({
      data: images.map((i) => ({
        hostId,
        imageId: i.id,
        repoTags: JSON.stringify(i.repoTags),
        repoDigests: JSON.stringify(i.repoDigests),
        size: i.size,
        created: i.created,
      })),
    });
  }
}
