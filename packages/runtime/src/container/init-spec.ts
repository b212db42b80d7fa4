// What the runtime daemon hands a pre-started init on its stdin: everything the init needs to
// turn itself into the container's first process. One JSON line, validated on arrival.
import { z } from "zod";
import { CAPABILITIES, RLIMIT } from "../syscall/index.js";

const capabilityName = z.enum(Object.keys(CAPABILITIES) as [keyof typeof CAPABILITIES]);
const rlimitName = z.enum(Object.keys(RLIMIT) as [keyof typeof RLIMIT]);

export const initMountSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("bind"),
    source: z.string().startsWith("/"),
    target: z.string().startsWith("/"),
    readOnly: z.boolean(),
    /** Copy what the image has at the target into the (empty) source first: see copy-up.ts. */
    copyUp: z.boolean().optional(),
  }),
  z.object({
    type: z.literal("tmpfs"),
    target: z.string().startsWith("/"),
    options: z.string(),
  }),
]);
export type InitMount = z.infer<typeof initMountSchema>;

export const initSpecSchema = z.object({
  containerId: z.string().regex(/^[0-9a-f]{64}$/),
  /** Overlay parts: image layers (top first) below the init layer, and the container's own dirs. */
  rootfs: z.object({
    lowerDirs: z.array(z.string().startsWith("/")).min(1),
    upperDir: z.string().startsWith("/"),
    workDir: z.string().startsWith("/"),
    mountPoint: z.string().startsWith("/"),
    readOnly: z.boolean(),
  }),
  /** Host files bind-mounted over /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  etcFiles: z.array(z.object({ source: z.string().startsWith("/"), target: z.string() })),
  mounts: z.array(initMountSchema),
  hostname: z.string().min(1).max(64),
  /**
   * The container's eth0, configured by the init itself over rtnetlink (its veth end is
   * already in the init's namespace, named eth0). Absent for host and none networking.
   */
  network: z
    .object({
      ifName: z.string().min(1).max(15),
      mac: z.string(),
      mtu: z.number().int().min(68),
      address: z.string(),
      prefixLen: z.number().int().min(1).max(32),
      gateway: z.string(),
      /** The default route's MTU (the host uplink's), below the link's. */
      routeMtu: z.number().int().min(68).optional(),
    })
    .optional(),
  /** Bring lo up (not in the host's network namespace: its lo is the host's). */
  loopback: z.boolean().default(true),
  process: z.object({
    args: z.array(z.string()).min(1),
    env: z.array(z.string()),
    cwd: z.string().startsWith("/"),
    /** "name", "uid", "name:group" or "uid:gid", resolved in the container's /etc/passwd. */
    user: z.string(),
    capabilities: z.array(capabilityName),
    noNewPrivileges: z.boolean(),
    /**
     * The container's seccomp program (base64 `struct sock_filter[]`, container/seccomp.ts);
     * absent: unconfined. Installed just before exec, or before dropping capabilities when
     * no_new_privs is off (the kernel then wants CAP_SYS_ADMIN to install it), as runc does.
     */
    seccomp: z.string().base64().optional(),
    rlimits: z.array(z.object({ name: rlimitName, soft: z.number(), hard: z.number() })),
    /** File the container's stdout and stderr append to. */
    logPath: z.string().startsWith("/"),
    /**
     * "tty": the init reports "rootfs" once inside its root and waits for the number N of
     * the pty the daemon opened on the container's devpts, then uses /dev/pts/N as its
     * controlling terminal and stdio. "pipe": stdin stays the pipe the spec came on, whose
     * write end the daemon keeps (-i). "null": stdin is /dev/null, stdout/stderr the log.
     */
    stdio: z.enum(["null", "pipe", "tty"]),
    /** Host path of an init (tini) bind-mounted at /dev/init and run as pid 1 (--init). */
    initBinary: z.string().startsWith("/").optional(),
  }),
});
export type InitSpec = z.infer<typeof initSpecSchema>;

/** Messages an init writes on its status pipe (fd 3), one JSON object per line. */
export type InitStatus =
  | { type: "ready"; hostPid: number; startTime: string }
  | { type: "rootfs" }
  | { type: "exec" }
  | { type: "error"; exitCode: number; message: string };
