// @corral/protocol: every message between the web app and its agents, as zod schemas (both
// sides validate what they receive) and the types inferred from them.
import type {
  Command,
  CommandReply,
  PullProgress,
  StreamClose,
  StreamData,
  StreamEnd,
  StreamInput,
  StreamResize,
} from "./commands.js";
import type { Delta, Heartbeat, HostStats, Snapshot, StatsBatch } from "./events.js";

export * from "./state.js";
export * from "./events.js";
export * from "./commands.js";
export * from "./join.js";

/** socket.io event names, agent -> server. */
export const AGENT_EVENTS = {
  snapshot: "snapshot",
  delta: "delta",
  heartbeat: "heartbeat",
  stats: "stats",
  hostStats: "host:stats",
  streamData: "stream:data",
  pullProgress: "stream:progress",
  streamEnd: "stream:end",
} as const;

/** socket.io event names, server -> agent. */
export const SERVER_EVENTS = {
  command: "command",
  streamInput: "stream:input",
  streamResize: "stream:resize",
  streamClose: "stream:close",
} as const;

/** How often an agent beats, and how long the server waits before calling a host offline. */
export const HEARTBEAT_INTERVAL_MS = 5000;
export const HEARTBEAT_TIMEOUT_MS = 15000;

/** socket.io's typed event maps (payloads are still validated on receipt: the peer is remote). */
export interface AgentToServerEvents {
  snapshot: (s: Snapshot) => void;
  delta: (d: Delta) => void;
  heartbeat: (h: Heartbeat) => void;
  stats: (s: StatsBatch) => void;
  "host:stats": (s: HostStats) => void;
  "stream:data": (d: StreamData) => void;
  "stream:progress": (p: PullProgress) => void;
  "stream:end": (e: StreamEnd) => void;
}

export interface ServerToAgentEvents {
  command: (c: Command, ack: (reply: CommandReply) => void) => void;
  "stream:input": (i: StreamInput) => void;
  "stream:resize": (r: StreamResize) => void;
  "stream:close": (c: StreamClose) => void;
}
export * from "./validation.js";
