// A container create request: what `corral-rt run/create` (and later the agent) send to the
// runtime daemon. Validated at the daemon's door; every message says what to do.
import { isIPv4 } from "node:net";
import { z } from "zod";
import { parseSeccompProfile } from "./seccomp-profile.js";
import { deviceRequestSchema } from "./devices.js";
import { CAPABILITIES } from "../syscall/index.js";

const capabilityOrAll = z.enum([
  ...(Object.keys(CAPABILITIES) as (keyof typeof CAPABILITIES)[]),
  "ALL",
]);
import { NETWORK_NAME } from "../network/networks.js";
import { tmpfsMount } from "./tmpfs.js";

export const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** --network-alias and `network connect --alias`: names a container answers to on a network. */
export const networkAliasesSchema = z
  .array(z.string().regex(CONTAINER_NAME, "invalid network alias"))
  .max(32, "at most 32 network aliases");

export const mountRequestSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("bind"),
    source: z.string().startsWith("/", "a bind mount source must be an absolute host path"),
    target: z.string().startsWith("/", "a mount target must be an absolute path in the container"),
    readOnly: z.boolean().default(false),
  }),
  z.object({
    type: z.literal("volume"),
    /** Empty for an anonymous volume. */
    source: z.string().default(""),
    target: z.string().startsWith("/", "a mount target must be an absolute path in the container"),
    readOnly: z.boolean().default(false),
    /** `:nocopy`: an empty volume does not get a copy of what the image has at the target. */
    noCopy: z.boolean().default(false),
  }),
  z.object({
    type: z.literal("tmpfs"),
    target: z.string().startsWith("/", "a tmpfs target must be an absolute path in the container"),
    options: z
      .string()
      .default("")
      .superRefine((options, ctx) => {
        try {
          tmpfsMount(options);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: (err as Error).message });
        }
      }),
  }),
]);
export type MountRequest = z.infer<typeof mountRequestSchema>;

/** -p, as network/port-spec.ts parses it. */
export const portRequestSchema = z.object({
  hostIp: z
    .string()
    .refine((ip) => ip === "" || isIPv4(ip), "a host IP is an IPv4 address")
    .default(""),
  hostPort: z.number().int().min(0).max(65535).default(0),
  containerPort: z.number().int().min(1).max(65535),
  protocol: z.enum(["tcp", "udp"]).default("tcp"),
});

export const restartPolicySchema = z.object({
  name: z.enum(["no", "always", "unless-stopped", "on-failure"]).default("no"),
  maximumRetryCount: z.number().int().min(0).default(0),
});
export type RestartPolicy = z.infer<typeof restartPolicySchema>;

export const createRequestSchema = z.object({
  image: z.string().min(1, "an image is required"),
  name: z
    .string()
    .regex(CONTAINER_NAME, "a container name may contain [a-zA-Z0-9][a-zA-Z0-9_.-] only")
    .optional(),
  /** undefined: the image's; an entrypoint of [] resets the image's entrypoint. */
  cmd: z.array(z.string()).optional(),
  entrypoint: z.array(z.string()).optional(),
  env: z.array(z.string().regex(/^[^=]+=/, "environment entries look like KEY=value")).default([]),
  workingDir: z
    .string()
    .startsWith("/", "the working directory must be an absolute path")
    .optional(),
  user: z.string().optional(),
  hostname: z
    .string()
    .regex(
      /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/,
      "a hostname is up to 63 letters, digits, '.' or '-'",
    )
    .optional(),
  memoryBytes: z.number().int().positive().optional(),
  memorySwapBytes: z.number().int().min(-1).optional(),
  cpus: z.number().positive().optional(),
  cpuShares: z.number().int().min(2).max(262144).optional(),
  pidsLimit: z.number().int().optional(),
  readOnly: z.boolean().default(false),
  init: z.boolean().default(false),
  /** --network: bridge (the default network), host, none (loopback only) or a user network. */
  network: z
    .string()
    .regex(NETWORK_NAME, "a network is named by up to 64 letters, digits, '_', '.', '-'")
    .default("bridge"),
  /** --network-alias: more names the container answers to on a user network. */
  networkAliases: networkAliasesSchema.default([]),
  /** -p */
  publish: z.array(portRequestSchema).default([]),
  /** -P: every exposed port on a free host port. */
  publishAll: z.boolean().default(false),
  /** --expose: "80", "80/tcp", "53/udp", "8000-8010". */
  expose: z
    .array(z.string().regex(/^[0-9]+(-[0-9]+)?(\/(tcp|udp))?$/, "expose PORT[/tcp|udp]"))
    .default([]),
  /** --security-opt seccomp=unconfined turns the filter off (container/security-opts.ts). */
  seccomp: z.boolean().default(true),
  /** --security-opt seccomp=FILE: the profile's JSON text (Docker's format); default: Docker's. */
  seccompProfile: z
    .string()
    .max(1 << 20)
    .superRefine((text, ctx) => {
      try {
        parseSeccompProfile(text);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
      }
    })
    .optional(),
  /** --cap-add / --cap-drop: full names or ALL (container/capabilities.ts). */
  capAdd: z.array(capabilityOrAll).max(64).default([]),
  capDrop: z.array(capabilityOrAll).max(64).default([]),
  /** --device: host device nodes the container may use. */
  devices: z.array(deviceRequestSchema).max(256).default([]),
  /** --security-opt no-new-privileges=false lets setuid binaries work (on by default). */
  noNewPrivileges: z.boolean().default(true),
  /** -t: a terminal, held by the daemon (its output is the log). */
  tty: z.boolean().default(false),
  /** -i: stdin stays open for attach. */
  openStdin: z.boolean().default(false),
  mounts: z.array(mountRequestSchema).default([]),
  autoRemove: z.boolean().default(false),
  restartPolicy: restartPolicySchema.default({ name: "no", maximumRetryCount: 0 }),
  logMaxSizeBytes: z.number().int().positive().optional(),
  /** Log files kept in all, the live one included (Docker's max-file). */
  logMaxFiles: z.number().int().positive().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  stopSignal: z.string().optional(),
  stopTimeoutSeconds: z.number().int().min(0).optional(),
});
export type CreateRequest = z.infer<typeof createRequestSchema>;
export type CreateRequestInput = z.input<typeof createRequestSchema>;
