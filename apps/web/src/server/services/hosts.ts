// Hosts: joining (join token -> credential), online/offline, and applying what agents report
// (snapshots and numbered deltas) to the database, recording the events it implies.
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
import { AppError, notFound } from "../errors.ts";
import { hashSecret, newSecret } from "../tokens.ts";
import type { Host, Prisma } from "../../generated/prisma/client.ts";

/** How long a join token can be used. */
export const JOIN_TOKEN_TTL_MS = 24 * 3600 * 1000;

export interface HostView {
  id: string;
  name: string;
  status: "online" | "offline";
  lastSeenAt: string | null;
  agentVersion: string;
  facts: Partial<HostFacts>;
  createdAt: string;
  containers: { running: number; total: number };
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
    memoryLimit: c.memoryLimitBytes,
    cpus: c.cpus,
    managed: c.labels[MANAGED_LABEL] === MANAGED_BY_WEB,
    reportedAt: new Date(),
  };
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
  return {
    id: h.id,
    name: h.name,
    status: h.status === "online" ? "online" : "offline",
    lastSeenAt: h.lastSeenAt?.toISOString() ?? null,
    agentVersion: h.agentVersion,
    facts: JSON.parse(h.facts) as Partial<HostFacts>,
    createdAt: h.createdAt.toISOString(),
    containers: {
      running: h.containers.filter((c) => c.state === "running").length,
      total: h.containers.length,
    },
  };
}

export class HostService {
  constructor(private readonly db: Db) {}

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

  /** A one-time join token and the one-line agent command that uses it. */
  async createJoinToken(
    serverUrl: string,
    createdById: string | null,
  ): Promise<{ token: string; expiresAt: string; command: string }> {
    const token = newSecret("cjt");
    const expiresAt = new Date(Date.now() + JOIN_TOKEN_TTL_MS);
    await this.db.joinToken.create({
      data: { tokenHash: hashSecret(token), createdById, expiresAt },
    });
    return {
      token,
      expiresAt: expiresAt.toISOString(),
      command: `npx corral-agent --server ${serverUrl} --token ${token}`,
    };
  }

  /** Trades a join token (once) for a new host and its credential. */
  async join(req: JoinRequest): Promise<{ hostId: string; credential: string }> {
    const credential = newSecret("chc");
    return this.db.$transaction(async (tx) => {
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
      return { hostId: host.id, credential };
    });
  }

  async authenticateAgent(
    hostId: string,
    credential: string,
  ): Promise<"ok" | "revoked" | "unknown"> {
    const h = await this.db.host.findUnique({ where: { credentialHash: hashSecret(credential) } });
    if (!h || h.id !== hostId) return "unknown";
    return h.revokedAt ? "revoked" : "ok";
  }

  async revoke(hostId: string): Promise<void> {
    await this.db.host.update({ where: { id: hostId }, data: { revokedAt: new Date() } });
  }

  /** Nobody is connected when the server starts. */
  async markAllOffline(): Promise<void> {
    await this.db.host.updateMany({ where: { status: "online" }, data: { status: "offline" } });
  }

  async markOnline(hostId: string, agentVersion: string): Promise<void> {
    await this.db.$transaction([
      this.db.host.update({
        where: { id: hostId },
        data: { status: "online", lastSeenAt: new Date(), agentVersion },
      }),
      this.db.event.create({ data: { hostId, type: "host-online", time: new Date() } }),
    ]);
  }

  async markOffline(hostId: string): Promise<void> {
    await this.db.$transaction([
      this.db.host.update({ where: { id: hostId }, data: { status: "offline" } }),
      this.db.event.create({ data: { hostId, type: "host-offline", time: new Date() } }),
    ]);
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
          data: { status: "offline" },
        });
        if (r.count !== 1) return false;
        await tx.event.create({ data: { hostId: id, type: "host-offline", time: new Date() } });
        return true;
      });
      if (done) changed.push(id);
    }
    return changed;
  }

  async touch(hostId: string): Promise<void> {
    await this.db.host.update({ where: { id: hostId }, data: { lastSeenAt: new Date() } });
  }

  /**
   * A full snapshot replaces the host's containers and images. What changed while nobody
   * listened (an exit while the agent was down, a container removed) becomes events here.
   */
  async applySnapshot(hostId: string, s: Snapshot): Promise<void> {
    await this.db.$transaction(async (tx) => {
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
      await tx.host.update({
        where: { id: hostId },
        data: {
          facts: JSON.stringify(s.facts),
          stateEpoch: s.version.epoch,
          stateSeq: s.version.seq,
          lastSeenAt: new Date(),
        },
      });
    });
  }

  /** Applies a delta in order; "gap" when one was missed (the caller asks for a snapshot). */
  async applyDelta(hostId: string, d: Delta): Promise<"ok" | "gap"> {
    return this.db.$transaction(async (tx) => {
      const h = await tx.host.findUnique({ where: { id: hostId } });
      if (!h) throw notFound(`no host ${hostId}`);
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
        data: { stateSeq: d.version.seq, lastSeenAt: new Date() },
      });
      return "ok";
    });
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
