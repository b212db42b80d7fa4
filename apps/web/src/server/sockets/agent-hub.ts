// The agents' socket.io namespace: who is connected, commands to a host (with their typed
// results), and the streams commands open (pull progress, logs, exec). A host is online while
// its agent is connected and beating; the server never polls hosts, it is told.
import { EventEmitter } from "node:events";
import type { Namespace, Server, Socket } from "socket.io";
import {
  AGENT_EVENTS,
  AGENT_NAMESPACE,
  AUTH_ERRORS,
  HEARTBEAT_TIMEOUT_MS,
  agentAuthSchema,
  commandReplySchema,
  commandResultSchemas,
  deltaSchema,
  describeZodError,
  heartbeatSchema,
  hostStatsSchema,
  pullProgressSchema,
  snapshotSchema,
  statsBatchSchema,
  streamDataSchema,
  streamEndSchema,
  type AgentToServerEvents,
  type Command,
  type ContainerEvent,
  type CommandResult,
  type CommandType,
  type PullProgress,
  type ServerToAgentEvents,
  type StatsSample,
} from "@corral/protocol";
import { AppError, conflict } from "../errors.ts";
import { HostStatsService } from "../services/host-stats.ts";
import type { HostService } from "../services/hosts.ts";

type AgentSocket = Socket<AgentToServerEvents, ServerToAgentEvents>;

/** Who reads a stream a command opened. */
export interface StreamHandlers {
  data?(data: Uint8Array, fd?: 1 | 2): void;
  progress?(p: PullProgress["layer"]): void;
  end(e: { exitCode?: number; error?: string }): void;
}

interface Connection {
  socket: AgentSocket;
  lastBeat: number;
  /** Messages of one host are applied in order, one at a time. */
  queue: Promise<void>;
  /** its running containers, as its snapshot and deltas say (stats of others are dropped) */
  running: Set<string>;
}

const COMMAND_TIMEOUT_MS = 60_000;

/** What the hub tells the browsers' live channel (sockets/browser-live.ts), once stored. */
export interface HubChanges {
  /** a host's status or counts changed */
  host: [hostId: string];
  /** one container changed (gone from the database when destroyed) */
  container: [hostId: string, containerId: string];
  /** many of a host's containers may have changed (snapshot, offline) */
  resync: [hostId: string];
  stats: [hostId: string, samples: StatsSample[]];
  /** a host was removed from the fleet */
  removed: [hostId: string];
  /** a host's image list was stored anew */
  images: [hostId: string];
  /** networks or volumes changed through the web app (the runtime reports no such deltas) */
  networks: [hostId: string];
  volumes: [hostId: string];
  /** a container event, once stored, in its host's order (alerts read these) */
  containerEvent: [hostId: string, event: ContainerEvent];
  /** the host's agent connected / went away (not when this server shuts down) */
  online: [hostId: string];
  offline: [hostId: string];
}

export class AgentHub {
  private readonly connections = new Map<string, Connection>();
  private readonly streams = new Map<string, { hostId: string; handlers: StreamHandlers }>();
  /** The last stats sample of each running container, for /metrics and browsers. */
  readonly stats = new Map<string, StatsSample & { hostId: string }>();
  /** The hosts' own load: every sample goes through hostStats.record(). */
  readonly hostStats = new HostStatsService();
  private readonly sweeper: NodeJS.Timeout;
  private ns: Namespace<AgentToServerEvents, ServerToAgentEvents> | undefined;
  private closing = false;
  readonly changes = new EventEmitter<HubChanges>();

  constructor(
    private readonly hosts: HostService,
    private readonly log: (line: string) => void = (l) => console.log(l),
  ) {
    // A half-open connection (host powered off, cable cut) sends no close: the heartbeat
    // window ends it.
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const c of this.connections.values())
        if (now - c.lastBeat > HEARTBEAT_TIMEOUT_MS) c.socket.disconnect(true);
    }, 1000);
    this.sweeper.unref();
  }

  attach(io: Server): void {
    const ns = io.of(AGENT_NAMESPACE) as Namespace<AgentToServerEvents, ServerToAgentEvents>;
    this.ns = ns;
    ns.use((socket, next) => {
      const auth = agentAuthSchema.safeParse(socket.handshake.auth);
      if (!auth.success) return next(new Error(AUTH_ERRORS.unknown));
      this.hosts.authenticateAgent(auth.data.hostId, auth.data.credential).then(
        (result) => {
          if (result !== "ok") return next(new Error(AUTH_ERRORS[result]));
          socket.data.hostId = auth.data.hostId;
          socket.data.agentVersion = auth.data.agentVersion;
          next();
        },
        (err: Error) => next(new Error(`server error: ${err.message}`)),
      );
    });
    ns.on("connection", (socket) => this.onConnection(socket));
  }

  isOnline(hostId: string): boolean {
    return this.connections.has(hostId);
  }

  /** Cuts a host's agent off (a removed host: its credential is refused from then on). */
  disconnect(hostId: string): void {
    this.connections.get(hostId)?.socket.disconnect(true);
  }

  close(): void {
    this.closing = true;
    clearInterval(this.sweeper);
    this.ns?.disconnectSockets(true);
  }

  private onConnection(socket: AgentSocket): void {
    const hostId = socket.data.hostId as string;
    // A second connection for one host (a reconnect racing the old socket's close) wins.
    this.connections.get(hostId)?.socket.disconnect(true);
    const conn: Connection = {
      socket,
      lastBeat: Date.now(),
      queue: Promise.resolve(),
      running: new Set(),
    };
    this.connections.set(hostId, conn);
    const serial = (what: string, task: () => Promise<void>): void => {
      conn.queue = conn.queue.then(task).catch((err: Error) => {
        this.log(`host ${hostId}: ${what}: ${err.message}`);
      });
    };
    serial("online", async () => {
      await this.hosts.markOnline(hostId, socket.data.agentVersion as string);
      this.changes.emit("host", hostId);
      this.changes.emit("online", hostId);
    });
    const invalid = (what: string, error: string): void => {
      this.log(`host ${hostId}: refused a ${what}: ${error}`);
    };
    socket.on(AGENT_EVENTS.heartbeat, (raw) => {
      if (!heartbeatSchema.safeParse(raw).success) return invalid("heartbeat", "bad shape");
      conn.lastBeat = Date.now();
      serial("heartbeat", () => this.hosts.touch(hostId));
    });
    socket.on(AGENT_EVENTS.snapshot, (raw) => {
      conn.lastBeat = Date.now();
      const r = snapshotSchema.safeParse(raw);
      if (!r.success) return invalid("snapshot", describeZodError(r.error));
      conn.running = new Set(
        r.data.containers.filter((c) => c.state === "running").map((c) => c.id),
      );
      this.forgetStats(hostId, (id) => !conn.running.has(id));
      serial("snapshot", async () => {
        await this.hosts.applySnapshot(hostId, r.data);
        this.changes.emit("resync", hostId);
        this.changes.emit("host", hostId);
        this.changes.emit("images", hostId);
      });
    });
    socket.on(AGENT_EVENTS.delta, (raw) => {
      conn.lastBeat = Date.now();
      const r = deltaSchema.safeParse(raw);
      if (!r.success) return invalid("delta", describeZodError(r.error));
      const change = r.data.change;
      if (change.kind === "container") {
        if (change.container?.state === "running") conn.running.add(change.event.id);
        else {
          conn.running.delete(change.event.id);
          this.stats.delete(change.event.id); // a stopped container's last sample is not "now"
        }
      }
      serial("delta", async () => {
        if ((await this.hosts.applyDelta(hostId, r.data)) === "gap") {
          this.log(`host ${hostId}: a gap in its deltas; asking for a snapshot`);
          await this.command(hostId, { type: "resync" }).catch(() => undefined);
        } else if (r.data.change.kind === "container") {
          this.changes.emit("container", hostId, r.data.change.event.id);
          this.changes.emit("host", hostId);
          this.changes.emit("containerEvent", hostId, r.data.change.event);
        } else if (r.data.change.kind === "images") {
          this.changes.emit("images", hostId);
        }
      });
    });
    socket.on(AGENT_EVENTS.stats, (raw) => {
      const r = statsBatchSchema.safeParse(raw);
      if (!r.success) return invalid("stats batch", describeZodError(r.error));
      // A sample taken just before its container stopped may arrive after the stop: dropped.
      const samples = r.data.samples.filter((s) => conn.running.has(s.id));
      for (const s of samples) this.stats.set(s.id, { ...s, hostId });
      if (samples.length) this.changes.emit("stats", hostId, samples);
    });
    socket.on(AGENT_EVENTS.hostStats, (raw) => {
      const r = hostStatsSchema.safeParse(raw);
      if (!r.success) return invalid("host stats sample", describeZodError(r.error));
      this.hostStats.record(hostId, r.data.sample);
    });
    socket.on(AGENT_EVENTS.streamData, (raw) => {
      const r = streamDataSchema.safeParse(raw);
      if (!r.success) return;
      this.ownStream(hostId, r.data.streamId)?.data?.(r.data.data, r.data.fd);
    });
    socket.on(AGENT_EVENTS.pullProgress, (raw) => {
      const r = pullProgressSchema.safeParse(raw);
      if (!r.success) return;
      this.ownStream(hostId, r.data.streamId)?.progress?.(r.data.layer);
    });
    socket.on(AGENT_EVENTS.streamEnd, (raw) => {
      const r = streamEndSchema.safeParse(raw);
      if (!r.success) return;
      const s = this.ownStream(hostId, r.data.streamId);
      this.streams.delete(r.data.streamId);
      s?.end(r.data);
    });
    socket.on("disconnect", () => {
      if (this.connections.get(hostId)?.socket !== socket) return;
      this.connections.delete(hostId);
      for (const [id, s] of this.streams) {
        if (s.hostId !== hostId) continue;
        this.streams.delete(id);
        s.handlers.end({ error: "the host went offline" });
      }
      this.forgetStats(hostId, () => true);
      this.hostStats.forget(hostId);
      serial("offline", async () => {
        await this.hosts.markOffline(hostId);
        this.changes.emit("resync", hostId);
        this.changes.emit("host", hostId);
        if (!this.closing) this.changes.emit("offline", hostId);
      });
    });
  }

  private forgetStats(hostId: string, which: (containerId: string) => boolean): void {
    for (const [id, s] of this.stats) if (s.hostId === hostId && which(id)) this.stats.delete(id);
  }

  /** A stream's handlers, only when the host that sends owns it (hosts cannot cross-talk). */
  private ownStream(hostId: string, streamId: string): StreamHandlers | undefined {
    const s = this.streams.get(streamId);
    return s && s.hostId === hostId ? s.handlers : undefined;
  }

  /** Runs a command on a host; 409 when it is offline, the host's own error otherwise. */
  async command<T extends CommandType>(
    hostId: string,
    cmd: Extract<Command, { type: T }>,
    timeoutMs = COMMAND_TIMEOUT_MS,
  ): Promise<CommandResult<T>> {
    const conn = this.connections.get(hostId);
    if (!conn) throw conflict(`host ${hostId} is offline: start its agent, then try again`);
    let raw: unknown;
    try {
      raw = await conn.socket.timeout(timeoutMs).emitWithAck("command", cmd);
    } catch {
      throw new AppError(504, `host ${hostId} did not answer within ${timeoutMs / 1000} s`);
    }
    const reply = commandReplySchema.safeParse(raw);
    if (!reply.success) throw new AppError(502, `host ${hostId} sent a bad reply`);
    if (!reply.data.ok) {
      const s = reply.data.status;
      const status = s === 400 || s === 404 || s === 409 ? s : 502;
      throw new AppError(status, reply.data.message);
    }
    const result = commandResultSchemas[cmd.type].safeParse(reply.data.result);
    if (!result.success) {
      throw new AppError(
        502,
        `host ${hostId} sent a bad ${cmd.type} result: ${describeZodError(result.error)}`,
      );
    }
    return result.data as CommandResult<T>;
  }

  /** Keystrokes (or stdin's end) for an exec stream the caller opened. */
  streamInput(hostId: string, streamId: string, input: { data?: Uint8Array; end?: boolean }): void {
    if (this.streams.get(streamId)?.hostId !== hostId) return;
    this.connections.get(hostId)?.socket.emit("stream:input", { streamId, ...input });
  }

  streamResize(hostId: string, streamId: string, cols: number, rows: number): void {
    if (this.streams.get(streamId)?.hostId !== hostId) return;
    this.connections.get(hostId)?.socket.emit("stream:resize", { streamId, cols, rows });
  }

  openStream(hostId: string, streamId: string, handlers: StreamHandlers): () => void {
    this.streams.set(streamId, { hostId, handlers });
    return () => {
      if (!this.streams.delete(streamId)) return;
      this.connections.get(hostId)?.socket.emit("stream:close", { streamId });
    };
  }
}
