// Which cgroup version this host runs, from /proc/self/mountinfo (probed once per process).
import { readFileSync } from "node:fs";
import { CgroupError } from "./errors.js";
import type { CgroupLayout } from "./types.js";

// Superblock options of a v1 cgroup mount that are not controller names.
const NON_CONTROLLER_OPTIONS = new Set([
  "rw",
  "ro",
  "noprefix",
  "clone_children",
  "xattr",
  "cpuset_v2_mode",
  "favordynmods",
  "nofavordynmods",
]);

interface MountEntry {
  root: string;
  mountpoint: string;
  fstype: string;
  superOptions: string[];
}

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const before = line.slice(0, sep).split(" ");
    const after = line.slice(sep + 3).split(" ");
    const [root, mountpoint] = [before[3], before[4]];
    const [fstype, , superOpts] = after;
    if (!root || !mountpoint || !fstype) continue;
    entries.push({
      root: unescape(root),
      mountpoint: unescape(mountpoint),
      fstype,
      superOptions: (superOpts ?? "").split(","),
    });
  }
  return entries;
}

/**
 * v1 if any v1 hierarchy carries a controller (a controller lives in one hierarchy only, so a
 * cgroup2 mount beside it, as in systemd's "hybrid" mode, has none of those); else v2 at the
 * cgroup2 mount (the one at /sys/fs/cgroup if several).
 */
export function detectCgroups(mountinfo?: string): CgroupLayout {
  const text = mountinfo ?? readFileSync("/proc/self/mountinfo", "utf8");
  const entries = parseMountinfo(text);
  const mounts = new Map<string, string>();
  const fromRoot = new Set<string>();
  let controllers = 0;
  let unified: string | undefined;
  for (const entry of entries) {
    if (entry.fstype === "cgroup2") {
      if (unified === undefined || entry.mountpoint === "/sys/fs/cgroup") {
        unified = entry.mountpoint;
      }
      continue;
    }
    if (entry.fstype !== "cgroup") continue;
    for (const opt of entry.superOptions) {
      if (NON_CONTROLLER_OPTIONS.has(opt) || opt.startsWith("release_agent=") || opt === "") {
        continue;
      }
      // The same hierarchy may be mounted twice (bind mounts); prefer the mount of its root.
      const isRoot = entry.root === "/";
      if (mounts.has(opt) && (fromRoot.has(opt) || !isRoot)) continue;
      mounts.set(opt, entry.mountpoint);
      if (isRoot) fromRoot.add(opt);
      if (!opt.startsWith("name=")) controllers++;
    }
  }
  if (controllers > 0) {
    return unified === undefined ? { kind: "v1", mounts } : { kind: "v1", mounts, unified };
  }
  if (unified !== undefined) return { kind: "v2", root: unified };
  throw new CgroupError(
    "no cgroup filesystem is mounted (neither cgroup v1 controllers nor cgroup2 in " +
      "/proc/self/mountinfo): mount cgroup2 at /sys/fs/cgroup",
  );
}

/**
 * `CORRAL_CGROUP2=PATH` makes a hybrid host use its cgroup2 mount at PATH: the v2 path (device
 * programs, freezer, cgroup.kill) with no controllers for limits, since those stay in v1.
 */
export function chooseLayout(detected: CgroupLayout, cgroup2: string | undefined): CgroupLayout {
  if (!cgroup2) return detected;
  const mount = detected.kind === "v2" ? detected.root : detected.unified;
  if (mount !== cgroup2) {
    throw new CgroupError(
      `CORRAL_CGROUP2=${cgroup2} is not this host's cgroup2 mount (${mount ?? "none is mounted"})`,
    );
  }
  return { kind: "v2", root: cgroup2 };
}

let cached: CgroupLayout | undefined;

/** The layout this process uses (`detectCgroups()`, or CORRAL_CGROUP2's), probed once. */
export function hostCgroupLayout(): CgroupLayout {
  cached ??= chooseLayout(detectCgroups(), process.env.CORRAL_CGROUP2);
  return cached;
}
