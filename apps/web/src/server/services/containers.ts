// Containers across the fleet: reads come from the database (each host's last report), writes
// go to the host's agent and are stored from its answer, so the database never claims what a
// host did not do.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import {
  MANAGED_BY_WEB,
  MANAGED_LABEL,
  containerSpecSchema,
  type ContainerInfo,
} from "@corral/protocol";
import type { Db } from "../db.ts";
import { AppError, notFound, toAppError } from "../errors.ts";
import { can } from "../permissions.ts";
import { maskEnv, type EnvEntry } from "../secrets.ts";
import type { AgentHub, StreamHandlers } from "../sockets/agent-hub.ts";
import type { Container } from "../../generated/prisma/client.ts";
import type { AuditService, Actor } from "./audit.ts";
import { CONTAINER_ROW_SELECT, containerRowOf, type ContainerRow } from "./container-row.ts";
import { containerRow, drainingError } from "./hosts.ts";

export { CONTAINER_ROW_FIELDS, containerListRow, type ContainerRow } from "./container-row.ts";

// Strict: a misspelt field (`memory` for `memoryBytes`) is a 400 naming it, never a limit
// silently dropped.
export const createContainerInput = containerSpecSchema
  .extend({
    hostId: z.string().min(1, "hostId is required"),
    /** start it once created (default true, as `run`) */
    start: z.boolean().optional(),
  })
  .strict();
export type CreateContainerInput = z.infer<typeof createContainerInput>;

export const CONTAINER_ACTIONS = ["start", "stop", "restart", "kill", "pause", "unpause"] as const;
export type ContainerAction = (typeof CONTAINER_ACTIONS)[number];

export const logsDownloadInput = z.object({
  timestamps: z
    .enum(["0", "1", "true", "false"], { message: "timestamps is true or false" })
    .optional()
    .transform((v) => v === undefined || v === "1" || v === "true"),
});

export const logsInput = z.object({
  tail: z.coerce.number().int().min(0, "tail is a number of lines (0 or more)").optional(),
  follow: z
    .enum(["0", "1", "true", "false"], { message: "follow is true or false" })
    .optional()
    .transform((v) => v === "1" || v === "true"),
});

export interface ContainerView {
  id: string;
  hostId: string;
  name: string;
  image: string;
  imageId: string;
  command: string[];
  /** "unknown" while the host is offline: its last report may no longer hold */
  state: ContainerInfo["state"] | "unknown";
  reportedState: ContainerInfo["state"];
  pid: number;
  exitCode: number | null;
  oomKilled: boolean;
  error: string;
  restartCount: number;
  restartPolicy: string;
  created: string;
  startedAt: string;
  finishedAt: string;
  labels: Record<string, string>;
  ports: ContainerInfo["ports"];
  memoryLimitBytes: number;
  cpus: number;
  /** made through the web app (false: made on the host, e.g. with corral-rt) */
  managed: boolean;
  desiredState: string | null;
  reportedAt: string;
}

/** The lists' order: by host, then by name. */
const LIST_ORDER: Array<{ hostId: "asc" } | { name: "asc" }> = [{ hostId: "asc" }, { name: "asc" }];

export class ContainerService {
  constructor(
    private readonly db: Db,
    private readonly hub: AgentHub,
    private readonly audit: AuditService,
  ) {}

  /**
   * `online`: the host's status in the database, which every web process writes (with several
   * processes, its agent may be connected to another one). The list's row and the rest.
   */
  private view(c: Container, online: boolean): ContainerView {
    return {
      ...containerRowOf(c, online),
      imageId: c.imageId,
      command: JSON.parse(c.command) as string[],
      reportedState: c.state as ContainerInfo["state"],
      pid: c.pid,
      error: c.error,
      restartCount: c.restartCount,
      restartPolicy: c.restartPolicy,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      labels: JSON.parse(c.labels) as Record<string, string>,
      ports: JSON.parse(c.ports) as ContainerInfo["ports"],
      memoryLimitBytes: c.memoryLimit,
      cpus: c.cpus,
      desiredState: c.desiredState,
      reportedAt: c.reportedAt.toISOString(),
    };
  }

  /**
   * The containers list's rows (the dashboard's list query): only their columns are read, and
   * each row is made once from its database row (see container-row.ts).
   */
  async list(hostId?: string): Promise<ContainerRow[]> {
    if (hostId !== undefined) await this.requireHost(hostId);
    const [rows, online] = await Promise.all([
      this.db.container.findMany({
        where: hostId ? { hostId } : {},
        orderBy: LIST_ORDER,
        select: CONTAINER_ROW_SELECT,
      }),
      this.onlineHosts(hostId),
    ]);
    return rows.map((c) => containerRowOf(c, online.has(c.hostId)));
  }

  /** Every field of each container (REST's `GET /api/v1/containers`, which API users read). */
  async listViews(hostId?: string): Promise<ContainerView[]> {
    if (hostId !== undefined) await this.requireHost(hostId);
    const [rows, online] = await Promise.all([
      this.db.container.findMany({ where: hostId ? { hostId } : {}, orderBy: LIST_ORDER }),
      this.onlineHosts(hostId),
    ]);
    return rows.map((c) => this.view(c, online.has(c.hostId)));
  }

  /** The ids of the hosts that are online (of the one host when given). */
  private async onlineHosts(hostId?: string): Promise<Set<string>> {
    const hosts = await this.db.host.findMany({
      where: { status: "online", ...(hostId ? { id: hostId } : {}) },
      select: { id: true },
    });
    return new Set(hosts.map((h) => h.id));
  }

  async get(id: string): Promise<ContainerView> {
    return this.viewOf(await this.row(id));
  }

  private async viewOf(c: Container): Promise<ContainerView> {
    const h = await this.db.host.findUnique({ where: { id: c.hostId }, select: { status: true } });
    return this.view(c, h?.status === "online");
  }

  /**
   * Its environment, apart from the view (which is pushed to every browser): in full for a role
   * that may edit containers, every value masked for the others.
   */
  async env(id: string, role: string): Promise<{ revealed: boolean; entries: EnvEntry[] }> {
    const revealed = can(role, "containers.write");
    const env = JSON.parse((await this.row(id)).env) as string[];
    return { revealed, entries: maskEnv(env, revealed ? "none" : "all") };
  }

  private async row(id: string): Promise<Container> {
    const c = await this.db.container.findUnique({ where: { id } });
    if (!c) throw notFound(`no container ${id}`);
    return c;
  }

  private async requireHost(hostId: string): Promise<void> {
    const h = await this.db.host.findFirst({ where: { id: hostId, revokedAt: null } });
    if (!h) throw notFound(`no host ${hostId}`);
  }

  /** A host that may take a new container: 404 when unknown, 409 while it is draining. */
  private async requirePlaceable(hostId: string): Promise<void> {
    const h = await this.db.host.findFirst({ where: { id: hostId, revokedAt: null } });
    if (!h) throw notFound(`no host ${hostId}`);
    if (h.drainingAt) throw drainingError(h);
  }

  /** Stores what the host answered (the delta that follows agrees with it). */
  private async store(hostId: string, c: ContainerInfo, desiredState?: string): Promise<Container> {
    const data = {
      ...containerRow(hostId, c),
      ...(desiredState ? { desiredState } : {}),
    };
    // the host's row first, as a snapshot or delta locks it (the other order deadlocks them)
    const [, row] = await this.db.$transaction([
      this.rowsChanged(hostId),
      this.db.container.upsert({
        where: { id: c.id },
        create: { id: c.id, ...data },
        update: data,
      }),
    ]);
    return row;
  }

  /** The host's rows are no longer exactly its last snapshot's (see Host.snapshotHash). */
  private rowsChanged(hostId: string) {
    return this.db.host.updateMany({ where: { id: hostId }, data: { snapshotHash: null } });
  }

  /**
   * Creates a container and, unless `start` is false, starts it: a run, all or nothing. When the
   * start fails (e.g. a host port already taken), the container this call created is removed
   * again, so that the same request, corrected, can be sent again under the same name.
   * Create-then-start in two calls (`start: false`, then the start action) keeps what it made,
   * as Docker's API does.
   */
  async create(input: CreateContainerInput, actor: Actor): Promise<ContainerView> {
    const { hostId, start, ...spec } = input;
    await this.requirePlaceable(hostId);
    const labels = { ...(spec.labels ?? {}), [MANAGED_LABEL]: MANAGED_BY_WEB };
    const { container: created } = await this.hub.command(hostId, {
      type: "create",
      spec: { ...spec, labels },
    });
    const row = await this.store(hostId, created, start === false ? "stopped" : "running");
    // env as given, its secret-looking values masked by the audit service
    await this.audit.record(actor, "container.create", created.id, {
      hostId,
      image: spec.image,
      name: created.name,
      ...(spec.env?.length ? { env: spec.env } : {}),
    });
    if (start === false) return this.viewOf(row);
    let started: ContainerInfo;
    try {
      started = (await this.hub.command(hostId, { type: "start", id: created.id })).container;
    } catch (err) {
      throw await this.undoRun(created, err, actor);
    }
    return this.viewOf(await this.store(hostId, started));
  }

  /**
   * A run whose start failed: removes the container it created (through its host's agent, as
   * `remove` does; forced, since a start that timed out may have run it) and returns the
   * start's error, saying whether anything was left behind and, if so, what to do.
   */
  private async undoRun(
    created: ContainerInfo,
    startError: unknown,
    actor: Actor,
  ): Promise<AppError> {
    const failed = toAppError(startError);
    const what = `${created.name} (${created.id.slice(0, 12)})`;
    try {
      await this.remove(created.id, true, actor, `its run failed to start: ${failed.message}`);
    } catch (err) {
      return new AppError(
        failed.status,
        `${failed.message}; the container ${what} made for this run could not be removed (${toAppError(err).message}): remove it from the containers list before running it again under that name`,
      );
    }
    return new AppError(
      failed.status,
      `${failed.message} (nothing was left behind: the container made for this run was removed)`,
    );
  }

  async action(id: string, action: ContainerAction, actor: Actor): Promise<ContainerView> {
    const c = await this.row(id);
    const { container } = await this.hub.command(c.hostId, { type: action, id });
    const desired = action === "stop" || action === "kill" ? "stopped" : "running";
    await this.audit.record(actor, `container.${action}`, id, { hostId: c.hostId });
    return this.viewOf(await this.store(c.hostId, container, desired));
  }

  /** `reason`: why the server removes it by itself (the audit log says so). */
  async remove(id: string, force: boolean, actor: Actor, reason?: string): Promise<void> {
    const c = await this.row(id);
    await this.hub.command(c.hostId, { type: "remove", id, force, volumes: false });
    await this.db.$transaction([
      this.rowsChanged(c.hostId),
      this.db.container.deleteMany({ where: { id } }),
    ]);
    await this.audit.record(actor, "container.remove", id, {
      hostId: c.hostId,
      force,
      ...(reason ? { reason } : {}),
    });
  }

  /** Opens a log stream on the container's host; the returned function stops it. */
  async logs(
    id: string,
    opts: { tail?: number; follow: boolean; timestamps?: boolean },
    handlers: StreamHandlers,
  ): Promise<() => void> {
    const c = await this.row(id);
    const streamId = randomUUID();
    const close = this.hub.openStream(c.hostId, streamId, handlers);
    try {
      await this.hub.command(c.hostId, {
        type: "logs",
        id,
        follow: opts.follow,
        ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
        ...(opts.timestamps ? { timestamps: true } : {}),
        streamId,
      });
    } catch (err) {
      close();
      throw err;
    }
    return close;
  }
}
