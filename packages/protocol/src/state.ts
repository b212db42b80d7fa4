// What an agent reports about its host: containers, images, host facts, stats samples.
// Field names are the web app's (camelCase), not the runtime daemon's Docker-shaped JSON: the
// agent translates once, so the server and the browser read one shape.
import { z } from "zod";

export const CONTAINER_STATES = [
  "created",
  "running",
  "paused",
  "restarting",
  "exited",
  "dead",
] as const;
export const containerStateSchema = z.enum(CONTAINER_STATES);
export type ContainerStateName = z.infer<typeof containerStateSchema>;

/** The label the web app puts on containers it creates; any other container was made on the host. */
export const MANAGED_LABEL = "io.corral.managed-by";
export const MANAGED_BY_WEB = "corral-web";

const isoTime = z.string().max(64);

export const portBindingSchema = z.object({
  hostIp: z.string().max(64),
  hostPort: z.number().int().min(0).max(65535),
  containerPort: z.number().int().min(1).max(65535),
  protocol: z.enum(["tcp", "udp", "sctp"]),
});
export type PortBinding = z.infer<typeof portBindingSchema>;

/** One container as its host's runtime sees it now. */
export const containerInfoSchema = z.object({
  /** the runtime's 64-hex id */
  id: z.string().regex(/^[0-9a-f]{64}$/, "a container id is 64 hex digits"),
  name: z.string().min(1).max(256),
  /** the reference it was created from, e.g. busybox:latest */
  image: z.string().max(512),
  imageId: z.string().max(128),
  command: z.array(z.string()).max(4096),
  state: containerStateSchema,
  /** host pid of the container's init; 0 when not running */
  pid: z.number().int().min(0),
  exitCode: z.number().int().nullable(),
  oomKilled: z.boolean(),
  error: z.string().max(4096),
  restartCount: z.number().int().min(0),
  restartPolicy: z.string().max(64),
  created: isoTime,
  startedAt: isoTime,
  finishedAt: isoTime,
  labels: z.record(z.string(), z.string()),
  ports: z.array(portBindingSchema).max(65536),
  memoryLimitBytes: z.number().int().min(0),
  cpus: z.number().min(0),
  /** KEY=value entries (the image's and the container's); agents before 0.2 omit it */
  env: z.array(z.string().max(131072)).max(4096).optional(),
});
export type ContainerInfo = z.infer<typeof containerInfoSchema>;

export const imageInfoSchema = z.object({
  id: z.string().max(128),
  repoTags: z.array(z.string().max(512)).max(1024),
  repoDigests: z.array(z.string().max(512)).max(1024),
  created: isoTime,
  size: z.number().int().min(0),
});
export type ImageInfo = z.infer<typeof imageInfoSchema>;

export const hostFactsSchema = z.object({
  hostname: z.string().max(256),
  kernel: z.string().max(256),
  os: z.string().max(256),
  arch: z.string().max(64),
  cpus: z.number().int().min(0),
  memoryBytes: z.number().int().min(0),
  /** bytes total and free on the filesystem holding the runtime's state */
  diskBytes: z.number().min(0),
  diskFreeBytes: z.number().min(0),
  /** "v1" or "v2": how the host mounts cgroups */
  cgroups: z.string().max(16),
  runtimeVersion: z.string().max(64),
  agentVersion: z.string().max(64),
  /** optional: agents before 0.1.1 do not send them */
  cpuModel: z.string().max(256).optional(),
  /** the host's non-loopback addresses (IPv4 and IPv6), e.g. for reaching published ports */
  addresses: z.array(z.string().max(64)).max(256).optional(),
});
export type HostFacts = z.infer<typeof hostFactsSchema>;

/** One 1 Hz sample of a running container, from its cgroup (and its network namespace). */
export const statsSampleSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/),
  time: isoTime,
  /** percent of one CPU over the last interval (200 = two cores busy) */
  cpuPercent: z.number().min(0),
  cpuUsageNanos: z.number().min(0),
  memoryUsageBytes: z.number().min(0),
  memoryWorkingSetBytes: z.number().min(0),
  memoryLimitBytes: z.number().min(0),
  netRxBytes: z.number().min(0),
  netTxBytes: z.number().min(0),
  blockReadBytes: z.number().min(0),
  blockWriteBytes: z.number().min(0),
  pids: z.number().int().min(0),
});
export type StatsSample = z.infer<typeof statsSampleSchema>;

export const networkInfoSchema = z.object({
  id: z.string().max(128),
  name: z.string().max(256),
  driver: z.string().max(64),
  subnet: z.string().max(64),
  gateway: z.string().max(64),
  /** ids of the containers attached */
  containers: z.array(z.string().max(128)).max(100000),
});
export type NetworkInfo = z.infer<typeof networkInfoSchema>;

export const volumeInfoSchema = z.object({
  name: z.string().max(256),
  mountpoint: z.string().max(4096),
  created: isoTime,
  labels: z.record(z.string(), z.string()),
  /** names of the containers that mount it (an older agent does not say: none known) */
  usedBy: z.array(z.string().max(256)).max(100000).default([]),
});
export type VolumeInfo = z.infer<typeof volumeInfoSchema>;

/**
 * One 1 Hz sample of a host itself (not of its containers): what the machine is doing, from
 * /proc/stat, /proc/meminfo, /proc/loadavg and statfs of the runtime's state root.
 */
export const hostStatsSampleSchema = z.object({
  time: isoTime,
  /** percent of the whole machine over the last interval (100 = every core busy) */
  cpuPercent: z.number().min(0).max(100),
  cpus: z.number().int().min(0),
  /** MemTotal - MemAvailable, as `free` counts "used" */
  memoryUsedBytes: z.number().min(0),
  memoryTotalBytes: z.number().min(0),
  load1: z.number().min(0),
  load5: z.number().min(0),
  load15: z.number().min(0),
  /** the filesystem holding the runtime's state (images, container layers) */
  diskUsedBytes: z.number().min(0),
  diskTotalBytes: z.number().min(0),
});
export type HostStatsSample = z.infer<typeof hostStatsSampleSchema>;
