// The agent -> server stream: a full snapshot on every (re)connect, then numbered deltas.
// Numbering: `epoch` names one agent process's view (a new epoch after a restart), `seq`
// counts every message of that epoch. A delta whose seq is not last+1 in the same epoch means
// the server missed something: it asks for a fresh snapshot instead of guessing.
import { z } from "zod";
import {
  containerInfoSchema,
  hostFactsSchema,
  hostStatsSampleSchema,
  imageInfoSchema,
  statsSampleSchema,
} from "./state.js";

export const versionSchema = z.object({
  epoch: z.string().min(1).max(64),
  seq: z.number().int().min(0),
});
export type Version = z.infer<typeof versionSchema>;

export const snapshotSchema = z.object({
  version: versionSchema,
  facts: hostFactsSchema,
  containers: z.array(containerInfoSchema).max(100000),
  images: z.array(imageInfoSchema).max(100000),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const CONTAINER_EVENT_TYPES = [
  "create",
  "start",
  "die",
  "oom",
  "stop",
  "kill",
  "pause",
  "unpause",
  "destroy",
  "restart",
] as const;

/** One runtime event as the daemon emitted it. */
export const containerEventSchema = z.object({
  type: z.enum(CONTAINER_EVENT_TYPES),
  id: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string().max(256),
  image: z.string().max(512),
  time: z.string().max(64),
  exitCode: z.number().int().optional(),
  oomKilled: z.boolean().optional(),
  signal: z.string().max(32).optional(),
});
export type ContainerEvent = z.infer<typeof containerEventSchema>;

export const deltaSchema = z.object({
  version: versionSchema,
  change: z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("container"),
      event: containerEventSchema,
      /** the container's state after the event; null once it is destroyed */
      container: containerInfoSchema.nullable(),
    }),
    z.object({ kind: z.literal("images"), images: z.array(imageInfoSchema).max(100000) }),
    z.object({ kind: z.literal("facts"), facts: hostFactsSchema }),
  ]),
});
export type Delta = z.infer<typeof deltaSchema>;

export const heartbeatSchema = z.object({ time: z.string().max(64) });
export type Heartbeat = z.infer<typeof heartbeatSchema>;

export const statsBatchSchema = z.object({ samples: z.array(statsSampleSchema).max(100000) });
export type StatsBatch = z.infer<typeof statsBatchSchema>;

/** The host's own 1 Hz sample (sent on its own: a host with no container still has a load). */
export const hostStatsSchema = z.object({ sample: hostStatsSampleSchema });
export type HostStats = z.infer<typeof hostStatsSchema>;
