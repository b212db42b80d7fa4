// The browsers' socket.io channel (namespace /browser): event names and payloads, shared by the
// server (src/server/sockets/browser-live.ts) and the pages (src/client). Payloads from a
// browser are validated with these schemas on the server.
import { z } from "zod";
import { CONTAINER_EVENT_TYPES, type HostStatsSample, type StatsSample } from "@corral/protocol";
import type { TokenChange } from "../server/services/api-tokens.ts";
import type { AuditView } from "../server/services/audit.ts";
import type { SessionEndReason } from "../server/services/auth.ts";
import type { ContainerView } from "../server/services/containers.ts";
import type { EventView } from "../server/services/events.ts";
import type { HostView } from "../server/services/hosts.ts";
import type { NoticeView } from "../server/services/notices.ts";

/** Every type of the event log: what runtimes report, and hosts coming and going. */
export const EVENT_TYPES = [...CONTAINER_EVENT_TYPES, "host-online", "host-offline"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const id = z.string().min(1, "a container id is required").max(256);
const sid = z.string().min(1).max(64);
const size = { cols: z.number().int().min(1).max(9999), rows: z.number().int().min(1).max(9999) };

export const watchStatsInput = z.object({ id });
export const watchHostStatsInput = z.object({
  hostId: z.string().min(1, "a host id is required").max(64),
});
/** `sid`: the browser names its stream, so it listens before the first byte can arrive. */
export const openLogsInput = z.object({
  id,
  sid,
  tail: z.number().int().min(0).max(100000),
  /** each line starts with its RFC 3339 time and a space */
  timestamps: z.boolean().optional(),
});
export const openExecInput = z.object({
  id,
  sid,
  ...size,
  cmd: z.array(z.string().max(4096)).min(1).max(64).optional(),
});
export const streamInputInput = z.object({ sid, data: z.string().max(1024 * 1024) });
export const streamResizeInput = z.object({ sid, ...size });
export const streamCloseInput = z.object({ sid });
export const pullInput = z.object({
  hostId: z.string().min(1, "hostId is required"),
  ref: z.string().min(1, "an image reference is required, e.g. busybox:latest").max(512),
});

export type Ack<T = object> = (reply: ({ ok: true } & T) | { ok: false; error: string }) => void;

export interface PullLayer {
  digest: string;
  status: "exists" | "downloading" | "done";
  bytes: number;
  total: number;
}

export interface ServerToBrowser {
  host: (h: HostView) => void;
  /** a container changed; null: it is gone */
  container: (c: { hostId: string; id: string; container: ContainerView | null }) => void;
  /** refetch this host's containers (a snapshot arrived or the host went offline) */
  resync: (r: { hostId: string }) => void;
  stats: (s: StatsSample) => void;
  /** a host's own load: its recent samples when watched, then each new one */
  "host:stats": (s: { hostId: string; samples: HostStatsSample[] }) => void;
  /** a host was removed from the fleet */
  "host:gone": (g: { hostId: string }) => void;
  /** bytes of a logs or terminal stream this browser opened */
  "stream:data": (d: { sid: string; data: Uint8Array }) => void;
  "stream:end": (e: { sid: string; exitCode?: number; error?: string }) => void;
  "pull:progress": (p: { ref: string; layer: PullLayer }) => void;
  /** a new audit log entry (only to roles that may read the log) */
  audit: (e: AuditView) => void;
  /** refetch this host's images, networks or volumes: they changed */
  images: (r: { hostId: string }) => void;
  networks: (r: { hostId: string }) => void;
  volumes: (r: { hostId: string }) => void;
  /** a new row of the event log, as stored */
  event: (e: EventView) => void;
  /** an alert was raised (every browser: notices are for every role) */
  notice: (n: NoticeView) => void;
  /** a webhook delivery's status changed (sent to those who may manage webhooks) */
  "webhooks:changed": () => void;
  /** an API token was made, used or revoked (to its owner and those who may see everyone's) */
  token: (c: TokenChange) => void;
  /** this browser's session ended, and why; the server disconnects the socket next */
  "session:ended": (e: { reason: SessionEndReason }) => void;
  /** the answer to a stream:ping: the server still holds this stream */
  "stream:pong": (p: { sid: string; alive: boolean }) => void;
}

export interface BrowserToServer {
  "stats:watch": (i: z.infer<typeof watchStatsInput>) => void;
  "stats:unwatch": (i: z.infer<typeof watchStatsInput>) => void;
  "hostStats:watch": (i: z.infer<typeof watchHostStatsInput>) => void;
  "hostStats:unwatch": (i: z.infer<typeof watchHostStatsInput>) => void;
  "logs:open": (i: z.infer<typeof openLogsInput>, ack: Ack) => void;
  "exec:open": (i: z.infer<typeof openExecInput>, ack: Ack) => void;
  "stream:input": (i: z.infer<typeof streamInputInput>) => void;
  "stream:resize": (i: z.infer<typeof streamResizeInput>) => void;
  "stream:close": (i: z.infer<typeof streamCloseInput>) => void;
  /** is this stream still open on the server? (a terminal's liveness check) */
  "stream:ping": (i: z.infer<typeof streamCloseInput>) => void;
  "image:pull": (i: z.infer<typeof pullInput>, ack: Ack<{ id: string }>) => void;
}
