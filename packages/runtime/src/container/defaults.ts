// Docker's defaults for a container (moby's oci.DefaultSpec and daemon defaults), so that a
// workload behaves here as it does under `docker run`.
import type { CapabilityName } from "../syscall/index.js";

/** The 14 capabilities Docker grants by default (CapEff 00000000a80425fb). */
export const DEFAULT_CAPABILITIES: readonly CapabilityName[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** runc's/Docker's masked paths: hidden behind /dev/null (files) or an empty read-only tmpfs (dirs). */
export const MASKED_PATHS: readonly string[] = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

export const READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/**
 * Docker (25+) gives containers systemd's default open-files limit, 1024 soft / 524288 hard;
 * the init never raises a hard limit above the host's own (it may lack CAP_SYS_RESOURCE).
 * Node raised the soft limit for itself: resetting it is DESIGN.md's trap 3.
 */
export const DEFAULT_RLIMITS = [{ name: "RLIMIT_NOFILE", soft: 1024, hard: 524288 }] as const;

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Standard device nodes in a container's /dev: [name, major, minor, mode]. */
export const DEVICE_NODES: readonly (readonly [string, number, number, number])[] = [
  ["null", 1, 3, 0o666],
  ["zero", 1, 5, 0o666],
  ["full", 1, 7, 0o666],
  ["random", 1, 8, 0o666],
  ["urandom", 1, 9, 0o666],
  ["tty", 5, 0, 0o666],
];

export const DEVICE_SYMLINKS: readonly (readonly [string, string])[] = [
  ["fd", "/proc/self/fd"],
  ["stdin", "/proc/self/fd/0"],
  ["stdout", "/proc/self/fd/1"],
  ["stderr", "/proc/self/fd/2"],
  ["ptmx", "pts/ptmx"],
  ["core", "/proc/kcore"],
];
