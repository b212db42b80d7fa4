// The agent's connection to the web app: on every (re)connect a full snapshot with a version,
// then numbered deltas driven by the runtime daemon's event stream, a heartbeat, 1 Hz stats,
// and the server's commands. Containers live in the daemon, not here: killing the agent
// changes nothing on the host, and the next snapshot tells the server what happened meanwhile.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { createInterface } from "node:readline";
import { io, type Socket } from "socket.io-client";
import {
  AGENT_EVENTS,
  AGENT_NAMESPACE,
  AUTH_ERRORS,
  HEARTBEAT_INTERVAL_MS,
  commandSchema,
  containerEventSchema,
  describeZodError,
  streamCloseSchema,
  streamInputSchema,
  streamResizeSchema,
  type AgentToServerEvents,
  type CommandReply,
  type ContainerEvent,
  type Delta,
  type HostFacts,
  type ImageInfo,
  type ServerToAgentEvents,
  type Snapshot,
} from "@corral/protocol";
import type { RuntimeClient } from "@corral/runtime";
import { CommandRunner } from "./commands.js";
import { HostStatsReader } from "./host-stats.js";
import { sampleHost } from "./stats.js";
import type { StoredCredential } from "./credentials.js";
import { AGENT_VERSION } from "./facts.js";

export interface AgentOptions {
  client: RuntimeClient;
  credential: StoredCredential;
  facts: () => HostFacts;
  /** the host's own load at 1 Hz (none: not sent) */
  hostStats?: HostStatsReader;
  log?: (line: string) => void;
  /** how often the image list is re-read to catch images changed by `corral-rt` directly */
  imageRefreshMs?: number;
}

/** Why the agent stopped for good (a revoked host must not retry forever). */
export class FatalAgentError extends Error {}

export class Agent {
  private readonly socket: Socket<ServerToAgentEvents, AgentToServerEvents>;
  private readonly runner: CommandRunner;
  /** A new epoch per agent process: the server cannot confuse two processes' numbering. */
  private readonly epoch = randomUUID();
  private seq = 0;
  /** State messages go out in order: a snapshot and the deltas after it never interleave. */
  private queue: Promise<void> = Promise.resolve();
  /** running containers: id -> host pid (stats are asked for only while some run) */
  private readonly running = new Map<string, number>();
  private images: string = "";
  /** the heartbeat, stats and image intervals (set once, in start()) */
  private timers: NodeJS.Timeout[] = [];
  /**
   * The pending reconnect, if any: one field, not an entry in `timers` per reconnect (fired
   * timeouts kept there for the process's life, and two pending retries could both connect).
   */
  private retryTimer: NodeJS.Timeout | undefined;
  private events: IncomingMessage | undefined;
  private stopped = false;
  private fatal: (err: Error) => void = () => undefined;
  private retryDelay = 1000;
  private stopResolve: () => void = () => undefined;
  private readonly log: (line: string) => void;
  /** Resolves when stopped; rejects with a FatalAgentError when the server refuses this host. */
  readonly done: Promise<void>;

  constructor(private readonly opts: AgentOptions) {
    const log = opts.log ?? ((l: string) => console.log(l));
    this.log = log;
    this.runner = new CommandRunner(opts.client, {
      data: (d) => this.socket.connected && this.socket.emit(AGENT_EVENTS.streamData, d),
      progress: (p) => this.socket.connected && this.socket.emit(AGENT_EVENTS.pullProgress, p),
      end: (e) => this.socket.connected && this.socket.emit(AGENT_EVENTS.streamEnd, e),
      imagesChanged: () => this.enqueue(() => this.sendImages(true)),
      facts: opts.facts,
    });
    this.done = new Promise((resolve, reject) => {
      this.fatal = (err) => {
        reject(err); // before stop(), which resolves
        this.stop();
      };
      this.stopResolve = resolve;
    });
    const { server, hostId, credential } = opts.credential;
    this.socket = io(new URL(AGENT_NAMESPACE, server).href, {
      auth: { hostId, credential, agentVersion: AGENT_VERSION },
      // Backoff with jitter, so that a fleet reconnecting after an outage spreads out.
      reconnectionDelay: 1000,
      reconnectionDelayMax: 15000,
      randomizationFactor: 0.5,
      transports: ["websocket"],
      autoConnect: false,
    });
    this.socket.on("connect", () => {
      this.retryDelay = 1000;
      log(`corral-agent: connected to ${server} as host ${hostId}`);
      this.enqueue(() => this.sendSnapshot());
    });
    this.socket.on("disconnect", (reason) => {
      log(`corral-agent: disconnected (${reason}); reconnecting`);
      this.runner.closeAll();
      // socket.io retries by itself except when the server hung up (e.g. it missed our
      // heartbeats while this process was frozen): then it is up to us.
      if (reason === "io server disconnect") this.retryLater();
    });
    this.socket.on("connect_error", (err) => {
      if (err.message === AUTH_ERRORS.revoked || err.message === AUTH_ERRORS.unknown) {
        this.fatal(new FatalAgentError(`the server refused this host: ${err.message}`));
        return;
      }
      // A refusal by the server's middleware is not retried by socket.io itself.
      if (!this.socket.active) {
        log(`corral-agent: ${err.message}`);
        this.retryLater();
      }
    });
    this.socket.on("command", (raw, ack) => {
      if (typeof ack !== "function") return;
      const parsed = commandSchema.safeParse(raw);
      if (!parsed.success) {
        ack({ ok: false, status: 400, message: describeZodError(parsed.error) });
        return;
      }
      const cmd = parsed.data;
      if (cmd.type === "resync") this.enqueue(() => this.sendSnapshot());
      void this.runner.run(cmd).then((reply: CommandReply) => ack(reply));
    });
    this.socket.on("stream:input", (raw) => {
      const r = streamInputSchema.safeParse(raw);
      if (r.success) this.runner.input(r.data.streamId, r.data.data, r.data.end ?? false);
    });
    this.socket.on("stream:resize", (raw) => {
      const r = streamResizeSchema.safeParse(raw);
      if (r.success) this.runner.resize(r.data.streamId, r.data.cols, r.data.rows);
    });
    this.socket.on("stream:close", (raw) => {
      const r = streamCloseSchema.safeParse(raw);
      if (r.success) this.runner.close(r.data.streamId);
    });
  }

  async start(): Promise<void> {
    // Subscribed before the first snapshot, so that no event falls between the two.
    const events = await this.subscribe();
    void this.followEvents(events);
    this.socket.connect();
    this.timers.push(
      setInterval(() => {
        if (this.socket.connected)
          this.socket.emit(AGENT_EVENTS.heartbeat, { time: new Date().toISOString() });
      }, HEARTBEAT_INTERVAL_MS),
      setInterval(() => {
        void this.sendStats();
        this.sendHostStats();
      }, 1000),
      setInterval(
        () => this.enqueue(() => this.sendImages(false)),
        this.opts.imageRefreshMs ?? 30000,
      ),
    );
  }

  /** Reconnects after a backoff with jitter (so that a fleet does not come back in step). */
  private retryLater(): void {
    if (this.stopped) return;
    const delay = this.retryDelay * (0.5 + Math.random());
    this.retryDelay = Math.min(this.retryDelay * 2, 15000);
    this.log(`corral-agent: reconnecting in ${Math.round(delay)} ms`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.socket.connect();
    }, delay);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.retryTimer);
    this.events?.destroy();
    this.runner.closeAll();
    this.socket.disconnect();
    this.stopResolve();
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: Error) => {
      this.log(`corral-agent: ${err.message}`);
    });
  }

  private version(): { epoch: string; seq: number } {
    return { epoch: this.epoch, seq: ++this.seq };
  }

  private async sendSnapshot(): Promise<void> {
    if (!this.socket.connected) return;
    const rows = await this.opts.client.call<Array<{ ID: string }>>("GET", "/v1/containers?all=1");
    const containers = [];
    for (const row of rows) {
      try {
        containers.push(await this.runner.inspect(row.ID));
      } catch {
        // removed between the list and the inspect: its destroy event follows
      }
    }
    this.running.clear();
    for (const c of containers) if (c.state === "running") this.running.set(c.id, c.pid);
    const images: ImageInfo[] = await this.runner.images();
    this.images = JSON.stringify(images);
    const snapshot: Snapshot = {
      version: this.version(),
      facts: this.opts.facts(),
      containers,
      images,
    };
    this.socket.emit(AGENT_EVENTS.snapshot, snapshot);
  }

  private async sendImages(force: boolean): Promise<void> {
    const images = await this.runner.images();
    const text = JSON.stringify(images);
    if (!force && text === this.images) return;
    this.images = text;
    this.emitDelta({ kind: "images", images });
  }

  private emitDelta(change: Delta["change"]): void {
    // Offline, a delta is dropped, not buffered: the snapshot on reconnect supersedes it.
    if (!this.socket.connected) return;
    this.socket.emit(AGENT_EVENTS.delta, { version: this.version(), change });
  }

  private async onEvent(event: ContainerEvent): Promise<void> {
    let container = null;
    if (event.type !== "destroy") {
      container = await this.runner.inspect(event.id).catch(() => null);
    }
    if (container?.state === "running") this.running.set(container.id, container.pid);
    else this.running.delete(event.id);
    this.emitDelta({ kind: "container", event, container });
  }

  /**
   * Asks the daemon for its event stream; resolves once the daemon has answered, that is once
   * the subscription is live (the daemon sends the response's head after registering it).
   */
  private async subscribe(): Promise<{ stream: Promise<IncomingMessage> }> {
    await this.opts.client.ensureDaemon();
    const events = await this.opts.client.stream("GET", "/v1/events");
    this.events = events;
    return { stream: Promise.resolve(events) };
  }

  /** Follows the daemon's NDJSON event stream; after a daemon restart, resubscribes and resyncs. */
  private async followEvents(first: { stream: Promise<IncomingMessage> }): Promise<void> {
    let pending: { stream: Promise<IncomingMessage> } | undefined = first;
    let delay = 500;
    while (!this.stopped) {
      try {
        if (!pending) {
          pending = await this.subscribe();
          delay = 500;
          // Events may have been missed while nothing listened: a snapshot tells all.
          if (this.socket.connected) this.enqueue(() => this.sendSnapshot());
        }
        const stream = await pending.stream;
        for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
          if (!line) continue;
          const r = containerEventSchema.safeParse(JSON.parse(line));
          if (!r.success) {
            this.log(`corral-agent: ignoring a daemon event: ${describeZodError(r.error)}`);
            continue;
          }
          this.enqueue(() => this.onEvent(r.data));
        }
      } catch (err) {
        if (this.stopped) return;
        this.log(`corral-agent: runtime event stream: ${(err as Error).message}`);
      }
      pending = undefined;
      if (this.stopped) return;
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, 10000);
    }
  }

  private sendHostStats(): void {
    const reader = this.opts.hostStats;
    if (!reader) return;
    let sample;
    try {
      sample = reader.sample(); // read even while offline: the next CPU % spans one second
    } catch (err) {
      this.log(`corral-agent: host stats: ${(err as Error).message}`);
      return;
    }
    if (this.socket.connected) this.socket.volatile.emit(AGENT_EVENTS.hostStats, { sample });
  }

  private sampling = false;
  private async sendStats(): Promise<void> {
    if (!this.socket.connected || this.sampling || this.running.size === 0) return;
    this.sampling = true;
    try {
      // The daemon away (restarting): no samples this second; the event stream resyncs.
      const samples = await sampleHost(this.opts.client).catch(() => []);
      // volatile: a sample that cannot go now is worthless a second later
      if (samples.length) this.socket.volatile.emit(AGENT_EVENTS.stats, { samples });
    } finally {
      this.sampling = false;
    }
  }
}
