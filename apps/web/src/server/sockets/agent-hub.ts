// The agents' socket.io namespace: who is connected, commands to a host (with their typed
// results), and the streams commands open (pull progress, logs, exec). A host is online while
// its agent is connected and beating; the server never polls hosts, it is told.
//
// Several web processes (CORRAL_REDIS_URL, socket.io's Redis adapter): an agent's socket is in
// the room `host:<id>` on whichever process it reached, and a command is an acknowledged emit
// to that room, which the adapter carries to that process and back; so is stream input. What
// an agent streams back (logs, terminal bytes, pull progress) for a stream this process did not
// open is passed on to the others as a server-side event, and the process that opened it
// delivers it. socket.io's own addressing (rooms, broadcast acks, serverSideEmit), so no second
// registry of who is where can go stale. The host's row names the connection that made it
// online (Host.connectionId): a socket's close marks the host offline only if it still does,
// so an old socket closing after its agent reconnected to another process changes nothing,
// without asking the other processes (which a busy one may not answer in time).
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
import { LastSamples } from "./last-samples.ts";

type AgentSocket = Socket<AgentToServerEvents, ServerToAgentEvents>;
type StreamEvent = "streamData" | "pullProgress" | "streamEnd";

/** Server-side events between web processes (only with the Redis adapter). */
interface PeerEvents {
  /** an agent's stream message for a stream another process opened */
  "agent:stream": (hostId: string, event: StreamEvent, raw: unknown) => void;
  /** an agent's socket closed: every stream it carried is over */
  "agent:gone": (hostId: string) => void;
}
type AgentNamespace = Namespace<AgentToServerEvents, ServerToAgentEvents, PeerEvents>;

/** The room an agent's socket is in, on whichever web process it reached. */
const hostRoom = (hostId: string): string => `host:${hostId}`;

/** Who reads a stream a command opened. */
export interface StreamHandlers {
  data?(data: Uint8Array, fd?: 1 | 2): void;
  progress?(p: PullProgress["layer"]): void;
  end(e: { exitCode?: number; error?: string }): void;
}

/** What a running container's metrics are labelled with, besides its id and host. */
export interface RunningContainer {
  name: string;
  image: string;
}

interface Connection {
  socket: AgentSocket;
  lastBeat: number;
  /** Messages of one host are applied in order, one at a time. */
  queue: Promise<void>;
  /**
   * its running containers, as its snapshot and deltas say (stats of others are dropped), with
   * the names /metrics labels their samples with
   */
  running: Map<string, RunningContainer>;
}

const COMMAND_TIMEOUT_MS = 60_000;
/**
 * With several web processes, a host not heard from for this long is marked offline by any of
 * them (its process may have died); generous, so a busy database's lag is not an outage.
 */
export const SILENT_HOST_MS = 4 * HEARTBEAT_TIMEOUT_MS;

const STREAM_SCHEMAS = {
  streamData: streamDataSchema,
  pullProgress: pullProgressSchema,
  streamEnd: streamEndSchema,
} as const;

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
  readonly stats = new LastSamples();
  /** The hosts' own load: every sample goes through hostStats.record(). */
  readonly hostStats = new HostStatsService();
  private readonly sweeper: NodeJS.Timeout;
  /**
   * Hosts whose agent beat since the last flush: their lastSeenAt is written once a second in
   * one UPDATE for all of them (1,000 hosts beating every 5 s were 200 writes a second).
   */
  private readonly beaten = new Set<string>();
  private flushing = false;
  private silentSweeper: NodeJS.Timeout | undefined;
  private ns: AgentNamespace | undefined;
  private closing = false;
  /** several web processes share the agents (the Redis adapter carries rooms and acks) */
  private cluster = false;
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
      void this.flushBeats();
    }, 1000);
    this.sweeper.unref();
  }

  attach(io: Server, opts: { cluster?: boolean } = {}): void {
    const ns = io.of(AGENT_NAMESPACE) as AgentNamespace;
    this.ns = ns;
    this.cluster = opts.cluster ?? false;
    if (this.cluster) {
      ns.on("agent:stream", (hostId, event, raw) => this.onStream(hostId, event, raw, true));
      ns.on("agent:gone", (hostId) => this.endStreams(hostId));
      this.silentSweeper = setInterval(() => void this.sweepSilent(), HEARTBEAT_TIMEOUT_MS);
      this.silentSweeper.unref();
    }
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

  /** A running container of a host connected to this process, as its agent last reported it. */
  runningContainer(hostId: string, id: string): RunningContainer | undefined {
    return this.connections.get(hostId)?.running.get(id);
  }

  /** Cuts a host's agent off, on whichever process it is (a removed host: refused from then on). */
  disconnect(hostId: string): void {
    this.ns?.in(hostRoom(hostId)).disconnectSockets(true);
  }

  /** Marks offline the hosts no process has heard from (see SILENT_HOST_MS). */
  async sweepSilent(): Promise<void> {
    const changed = await this.hosts
      .markSilentOffline(new Date(Date.now() - SILENT_HOST_MS), new Set(this.connections.keys()))
      .catch((err: Error) => {
        this.log(`sweeping silent hosts: ${err.message}`);
        return [];
      });
    for (const hostId of changed) {
      this.log(`host ${hostId}: not heard from in ${SILENT_HOST_MS / 1000} s; offline`);
      this.changes.emit("resync", hostId);
      this.changes.emit("host", hostId);
    }
  }

  /** Writes the beats heard since the last flush (one at a time: a slow database skips a turn). */
  async flushBeats(): Promise<void> {
    if (this.flushing || this.beaten.size === 0) return;
    const hostIds = [...this.beaten];
    this.beaten.clear();
    this.flushing = true;
    try {
      await this.hosts.touch(hostIds);
    } catch (err) {
      // next second, with the beats heard meanwhile
      for (const id of hostIds) this.beaten.add(id);
      this.log(`storing ${hostIds.length} hosts' heartbeats: ${(err as Error).message}`);
    } finally {
      this.flushing = false;
    }
  }

  close(): void {
    this.closing = true;
    clearInterval(this.sweeper);
    clearInterval(this.silentSweeper);
    this.ns?.disconnectSockets(true);
  }

  private onConnection(socket: AgentSocket): void {
    const hostId = socket.data.hostId as string;
    const ns = this.ns as AgentNamespace;
    const conn: Connection = {
      socket,
      lastBeat: Date.now(),
      queue: Promise.resolve(),
      running: new Map(),
    };
    this.connections.set(hostId, conn);
    void socket.join(hostRoom(hostId));
    const serial = (what: string, task: () => Promise<void>): void => {
      conn.queue = conn.queue.then(task).catch((err: Error) => {
        this.log(`host ${hostId}: ${what}: ${err.message}`);
      });
    };
    serial("online", async () => {
      const opened = new Date(socket.handshake.issued);
      const version = socket.data.agentVersion as string;
      if (!(await this.hosts.markOnline(hostId, version, socket.id, opened))) {
        // A newer connection of its agent (on another process) was stored first: this one is
        // stale, closed as that one closes the older ones.
        socket.disconnect(true);
        return;
      }
      // A second connection for one host (a reconnect racing the old socket's close, on this
      // process or another) wins: the older ones are closed wherever they are, once the host
      // names this connection, so that their close (markOffline) changes nothing.
      ns.in(hostRoom(hostId)).except(socket.id).disconnectSockets(true);
      this.changes.emit("host", hostId);
      this.changes.emit("online", hostId);
    });
    const invalid = (what: string, error: string): void => {
      this.log(`host ${hostId}: refused a ${what}: ${error}`);
    };
    socket.on(AGENT_EVENTS.heartbeat, (raw) => {
      if (!heartbeatSchema.safeParse(raw).success) return invalid("heartbeat", "bad shape");
      conn.lastBeat = Date.now();
      this.beaten.add(hostId);
    });
    socket.on(AGENT_EVENTS.snapshot, (raw) => {
      conn.lastBeat = Date.now();
      const r = snapshotSchema.safeParse(raw);
      if (!r.success) return invalid("snapshot", describeZodError(r.error));
      conn.running = new Map(
        r.data.containers
          .filter((c) => c.state === "running")
          .map((c) => [c.id, { name: c.name, image: c.image }]),
      );
      this.stats.forget(hostId, (id) => !conn.running.has(id));
      serial("snapshot", async () => {
        // A reconnect that changed nothing (most of a storm) asks no browser to read again.
        if ((await this.hosts.applySnapshot(hostId, r.data)) === "changed") {
          this.changes.emit("resync", hostId);
          this.changes.emit("images", hostId);
        }
        this.changes.emit("host", hostId);
      });
    });
    socket.on(AGENT_EVENTS.delta, (raw) => {
      conn.lastBeat = Date.now();
      const r = deltaSchema.safeParse(raw);
      if (!r.success) return invalid("delta", describeZodError(r.error));
      const change = r.data.change;
      if (change.kind === "container") {
        const c = change.container;
        if (c?.state === "running")
          conn.running.set(change.event.id, { name: c.name, image: c.image });
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
      for (const s of samples) this.stats.set(hostId, s);
      if (samples.length) this.changes.emit("stats", hostId, samples);
    });
    socket.on(AGENT_EVENTS.hostStats, (raw) => {
      const r = hostStatsSchema.safeParse(raw);
      if (!r.success) return invalid("host stats sample", describeZodError(r.error));
      this.hostStats.record(hostId, r.data.sample);
    });
    for (const event of ["streamData", "pullProgress", "streamEnd"] as const)
      socket.on(AGENT_EVENTS[event], (raw: unknown) => this.onStream(hostId, event, raw, false));
    socket.on("disconnect", () => {
      // Its agent closed every stream it carried, wherever they were opened.
      this.endStreams(hostId);
      if (this.cluster) ns.serverSideEmit("agent:gone", hostId);
      // Replaced by a newer connection on this process: that one owns the host now.
      if (this.connections.get(hostId)?.socket !== socket) return;
      this.connections.delete(hostId);
      this.stats.forget(hostId);
      this.hostStats.forget(hostId);
      serial("offline", async () => {
        // ... or on another process (its reconnect reached another web process): then the
        // host names that connection and this changes nothing; no question to the cluster
        // (whose answer a busy process may not give in time).
        if (!(await this.hosts.markOffline(hostId, socket.id))) return;
        this.changes.emit("resync", hostId);
        this.changes.emit("host", hostId);
        if (!this.closing) this.changes.emit("offline", hostId);
      });
    });
  }

  /**
   * An agent's stream message, delivered if this process opened the stream for that host
   * (hosts cannot cross-talk); else, with several processes, passed on to the one that did.
   * Server-side events travel as JSON, so the bytes go as base64.
   */
  private onStream(hostId: string, event: StreamEvent, raw: unknown, forwarded: boolean): void {
    const wire = raw as { data?: unknown } | null;
    if (forwarded && typeof wire?.data === "string")
      raw = { ...wire, data: Buffer.from(wire.data, "base64") };
    const r = STREAM_SCHEMAS[event].safeParse(raw);
    if (!r.success) return;
    const m = r.data;
    const s = this.streams.get(m.streamId);
    if (!s || s.hostId !== hostId) {
      if (!s && !forwarded && this.cluster) {
        const out = "data" in m ? { ...m, data: Buffer.from(m.data).toString("base64") } : m;
        this.ns?.serverSideEmit("agent:stream", hostId, event, out);
      }
      return;
    }
    if ("layer" in m) s.handlers.progress?.(m.layer);
    else if ("data" in m) s.handlers.data?.(m.data, m.fd);
    else {
      this.streams.delete(m.streamId);
      s.handlers.end(m);
    }
  }

  private endStreams(hostId: string): void {
    for (const [id, s] of this.streams) {
      if (s.hostId !== hostId) continue;
      this.streams.delete(id);
      s.handlers.end({ error: "the host went offline" });
    }
  }

  /** Runs a command on a host; 409 when it is offline, the host's own error otherwise. */
  async command<T extends CommandType>(
    hostId: string,
    cmd: Extract<Command, { type: T }>,
    timeoutMs = COMMAND_TIMEOUT_MS,
  ): Promise<CommandResult<T>> {
    if (!this.ns) throw conflict(`host ${hostId} is offline: start its agent, then try again`);
    // To the host's room: its agent's socket on whichever process holds it (one at most).
    let replies: unknown[];
    try {
      replies = await this.ns.to(hostRoom(hostId)).timeout(timeoutMs).emitWithAck("command", cmd);
    } catch {
      throw new AppError(504, `host ${hostId} did not answer within ${timeoutMs / 1000} s`);
    }
    if (replies.length === 0)
      throw conflict(`host ${hostId} is offline: start its agent, then try again`);
    const raw = replies[0];
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
    this.ns?.to(hostRoom(hostId)).emit("stream:input", { streamId, ...input });
  }

  streamResize(hostId: string, streamId: string, cols: number, rows: number): void {
    if (this.streams.get(streamId)?.hostId !== hostId) return;
    this.ns?.to(hostRoom(hostId)).emit("stream:resize", { streamId, cols, rows });
  }

  openStream(hostId: string, streamId: string, handlers: StreamHandlers): () => void {
    this.streams.set(streamId, { hostId, handlers });
    return () => {
      if (!this.streams.delete(streamId)) return;
      this.ns?.to(hostRoom(hostId)).emit("stream:close", { streamId });
    };
  }
}
