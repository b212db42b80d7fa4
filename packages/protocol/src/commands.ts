// Server -> agent commands (socket.io emit with an acknowledgement carrying the result) and the
// streams some of them open (pull progress, logs, exec), keyed by a stream id the server picks.
import { z } from "zod";
import {
  containerInfoSchema,
  hostFactsSchema,
  imageInfoSchema,
  networkInfoSchema,
  volumeInfoSchema,
} from "./state.js";

const containerId = z.string().min(1, "a container id or name is required").max(256);
const streamId = z.string().min(1).max(64);

/** What the web app asks a host to create: a subset of `corral-rt run`, in JSON. */
export const containerSpecSchema = z.object({
  image: z.string().min(1, "an image is required").max(512),
  name: z
    .string()
    .regex(
      /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/,
      "a container name may contain [a-zA-Z0-9][a-zA-Z0-9_.-] only",
    )
    .max(128)
    .optional(),
  cmd: z.array(z.string().max(65536)).max(1024).optional(),
  env: z
    .array(
      z
        .string()
        .regex(/^[^=]+=/, "environment entries look like KEY=value")
        .max(65536),
    )
    .max(1024)
    .optional(),
  ports: z
    .array(
      z.object({
        hostIp: z.string().max(64).optional(),
        hostPort: z.number().int().min(0).max(65535).optional(),
        containerPort: z.number().int().min(1).max(65535),
        protocol: z.enum(["tcp", "udp"]).optional(),
      }),
    )
    .max(1024)
    .optional(),
  /** source is an absolute host path (bind) or a volume name */
  volumes: z
    .array(
      z.object({
        source: z.string().min(1).max(4096),
        target: z.string().startsWith("/", "a volume target is an absolute path").max(4096),
        readOnly: z.boolean().optional(),
      }),
    )
    .max(256)
    .optional(),
  memoryBytes: z.number().int().positive().optional(),
  cpus: z.number().positive().max(1024).optional(),
  restartPolicy: z
    .object({
      name: z.enum(["no", "always", "unless-stopped", "on-failure"]),
      maximumRetryCount: z.number().int().min(0).optional(),
    })
    .optional(),
  network: z.string().max(64).optional(),
  labels: z.record(z.string().max(256), z.string().max(4096)).optional(),
});
export type ContainerSpec = z.infer<typeof containerSpecSchema>;

export const commandSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("pull"), ref: z.string().min(1).max(512), streamId }),
  z.object({ type: z.literal("create"), spec: containerSpecSchema }),
  z.object({ type: z.literal("start"), id: containerId }),
  z.object({
    type: z.literal("stop"),
    id: containerId,
    timeoutSeconds: z.number().int().min(0).optional(),
  }),
  z.object({
    type: z.literal("restart"),
    id: containerId,
    timeoutSeconds: z.number().int().min(0).optional(),
  }),
  z.object({ type: z.literal("kill"), id: containerId, signal: z.string().max(32).optional() }),
  z.object({ type: z.literal("pause"), id: containerId }),
  z.object({ type: z.literal("unpause"), id: containerId }),
  z.object({
    type: z.literal("remove"),
    id: containerId,
    force: z.boolean().optional(),
    volumes: z.boolean().optional(),
  }),
  z.object({ type: z.literal("inspect"), id: containerId }),
  z.object({
    type: z.literal("logs"),
    id: containerId,
    /** lines from the end; omitted: all */
    tail: z.number().int().min(0).optional(),
    follow: z.boolean(),
    timestamps: z.boolean().optional(),
    streamId,
  }),
  z.object({
    type: z.literal("exec"),
    id: containerId,
    cmd: z.array(z.string().max(65536)).min(1, "exec needs a command").max(1024),
    tty: z.boolean(),
    cols: z.number().int().min(1).max(9999).optional(),
    rows: z.number().int().min(1).max(9999).optional(),
    env: z
      .array(z.string().regex(/^[^=]+=/))
      .max(1024)
      .optional(),
    user: z.string().max(256).optional(),
    workdir: z.string().max(4096).optional(),
    streamId,
  }),
  z.object({ type: z.literal("images.list") }),
  z.object({
    type: z.literal("images.remove"),
    ref: z.string().min(1).max(512),
    force: z.boolean().optional(),
  }),
  /** images no container uses: untagged ones only unless `all` (Docker's `image prune [-a]`) */
  z.object({ type: z.literal("images.prune"), all: z.boolean().optional() }),
  z.object({ type: z.literal("networks.list") }),
  z.object({
    type: z.literal("networks.create"),
    name: z.string().min(1, "a network needs a name").max(64),
    subnet: z.string().max(64).optional(),
    gateway: z.string().max(64).optional(),
  }),
  z.object({ type: z.literal("networks.remove"), name: z.string().min(1).max(128) }),
  z.object({ type: z.literal("volumes.list") }),
  z.object({ type: z.literal("volumes.create"), name: z.string().max(256).optional() }),
  z.object({ type: z.literal("volumes.remove"), name: z.string().min(1).max(256) }),
  /** every volume no container mounts (Docker's `volume prune -a`) */
  z.object({ type: z.literal("volumes.prune") }),
  z.object({ type: z.literal("facts") }),
  /** send a fresh snapshot (the server saw a gap in the delta numbering) */
  z.object({ type: z.literal("resync") }),
]);
export type Command = z.infer<typeof commandSchema>;
export type CommandType = Command["type"];

const empty = z.object({});
/** What each command's acknowledgement carries when it succeeded. */
export const commandResultSchemas = {
  pull: z.object({ id: z.string(), repoTags: z.array(z.string()), digest: z.string() }),
  create: z.object({ container: containerInfoSchema }),
  start: z.object({ container: containerInfoSchema }),
  stop: z.object({ container: containerInfoSchema }),
  restart: z.object({ container: containerInfoSchema }),
  kill: z.object({ container: containerInfoSchema }),
  pause: z.object({ container: containerInfoSchema }),
  unpause: z.object({ container: containerInfoSchema }),
  remove: empty,
  inspect: z.object({ container: containerInfoSchema }),
  /** a logs or exec stream ends with a stream:end message, not with the ack */
  logs: empty,
  exec: empty,
  "images.list": z.object({ images: z.array(imageInfoSchema) }),
  "images.remove": z.object({ untagged: z.array(z.string()), deleted: z.array(z.string()) }),
  "images.prune": z.object({
    untagged: z.array(z.string()),
    deleted: z.array(z.string()),
    spaceReclaimed: z.number().min(0),
  }),
  "networks.list": z.object({ networks: z.array(networkInfoSchema) }),
  "networks.create": z.object({ id: z.string(), name: z.string() }),
  "networks.remove": empty,
  "volumes.list": z.object({ volumes: z.array(volumeInfoSchema) }),
  "volumes.create": z.object({ volume: volumeInfoSchema }),
  "volumes.remove": empty,
  "volumes.prune": z.object({ removed: z.array(z.string()) }),
  facts: hostFactsSchema,
  resync: empty,
} satisfies Record<CommandType, z.ZodType>;
export type CommandResult<T extends CommandType> = z.infer<(typeof commandResultSchemas)[T]>;

/** The acknowledgement of a command: its result, or the host's error with an HTTP-like status. */
export const commandReplySchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({
    ok: z.literal(false),
    /** 400 bad request, 404 not found, 409 conflict, 500 host failure (as the runtime says) */
    status: z.number().int().min(400).max(599),
    message: z.string().max(65536),
  }),
]);
export type CommandReply = z.infer<typeof commandReplySchema>;

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, "expected bytes");

/** agent -> server: bytes of a logs or exec stream (exec with a tty: the terminal's output). */
export const streamDataSchema = z.object({
  streamId,
  data: bytes,
  /** piped exec and logs without a tty: which stream the bytes came from */
  fd: z.union([z.literal(1), z.literal(2)]).optional(),
});
export type StreamData = z.infer<typeof streamDataSchema>;

/** agent -> server: one pull progress event (per layer). */
export const pullProgressSchema = z.object({
  streamId,
  layer: z.object({
    digest: z.string().max(128),
    status: z.enum(["exists", "downloading", "done"]),
    bytes: z.number().min(0),
    total: z.number().min(0),
  }),
});
export type PullProgress = z.infer<typeof pullProgressSchema>;

/** agent -> server: a stream is over (exec: with the command's exit code). */
export const streamEndSchema = z.object({
  streamId,
  exitCode: z.number().int().optional(),
  error: z.string().max(65536).optional(),
});
export type StreamEnd = z.infer<typeof streamEndSchema>;

/** server -> agent: input for an exec stream (keystrokes); `end` closes its stdin. */
export const streamInputSchema = z.object({
  streamId,
  data: bytes.optional(),
  end: z.boolean().optional(),
});
export type StreamInput = z.infer<typeof streamInputSchema>;

export const streamResizeSchema = z.object({
  streamId,
  cols: z.number().int().min(1).max(9999),
  rows: z.number().int().min(1).max(9999),
});
export type StreamResize = z.infer<typeof streamResizeSchema>;

/** server -> agent: nobody reads this stream any more (stop following logs, end the exec). */
export const streamCloseSchema = z.object({ streamId });
export type StreamClose = z.infer<typeof streamCloseSchema>;
