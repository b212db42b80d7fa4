// Builds a container's filesystem view inside its own mount namespace, step by step as runc
// does with Docker's default spec, then pivots into it. Runs in the init process, as root,
// before the user's command; every step's error names the step and the path.
import {
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { hostCgroupLayout } from "../cgroups/detect.js";
import {
  MNT_DETACH,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SLAVE,
  MS_STRICTATIME,
  S_IFCHR,
  mknod,
  mount,
  pivotRoot,
  umount2,
} from "../syscall/index.js";
import { DEVICE_NODES, DEVICE_SYMLINKS, MASKED_PATHS, READONLY_PATHS } from "./defaults.js";
import type { InitMount, InitSpec } from "./init-spec.js";
import { copyUpIfEmpty } from "./copy-up.js";
import { overlayOptions } from "./overlay.js";
import { openMountTarget, openRoot } from "./root-files.js";
import { secureJoin } from "./securejoin.js";
import { tmpfsMount } from "./tmpfs.js";

function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o755 });
}

function ensureFile(path: string): void {
  if (existsSync(path)) return;
  ensureDir(dirname(path));
  closeSync(openSync(path, "a", 0o644));
}

/** A bind mount's flags only take effect on a remount of the bind. */
function bindMount(source: string, target: string, flags: number, readOnly: boolean): void {
  mount(source, target, null, MS_BIND | MS_REC);
  if (readOnly || flags) {
    mount(null, target, null, MS_BIND | MS_REMOUNT | flags | (readOnly ? MS_RDONLY : 0));
  }
}

function mountOverlay(rootfs: InitSpec["rootfs"]): void {
  const { cwd, options } = overlayOptions(rootfs);
  // The options name the layers relative to `cwd`; overlayfs resolves them at mount time.
  const before = process.cwd();
  process.chdir(cwd);
  try {
    mount("overlay", rootfs.mountPoint, "overlay", 0, options);
  } finally {
    process.chdir(before);
  }
}

function mountDev(root: string): void {
  const dev = join(root, "dev");
  ensureDir(dev);
  mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  for (const [name, major, minor, mode] of DEVICE_NODES) {
    const path = join(dev, name);
    mknod(path, S_IFCHR | mode, major, minor);
    chmodSync(path, mode); // mknod applies the umask
  }
  for (const [name, target] of DEVICE_SYMLINKS) symlinkSync(target, join(dev, name));
  ensureDir(join(dev, "pts"));
  mount(
    "devpts",
    join(dev, "pts"),
    "devpts",
    MS_NOSUID | MS_NOEXEC,
    "newinstance,ptmxmode=0666,mode=0620,gid=5",
  );
  ensureDir(join(dev, "shm"));
  mount(
    "shm",
    join(dev, "shm"),
    "tmpfs",
    MS_NOSUID | MS_NODEV | MS_NOEXEC,
    "mode=1777,size=65536k",
  );
  ensureDir(join(dev, "mqueue"));
  mount("mqueue", join(dev, "mqueue"), "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/**
 * A volume, bind or tmpfs at its target, mounted on an fd of the target (as runc does since
 * CVE-2021-30465): a container sharing the volume cannot swap a symlink in between the check
 * and the mount, because the path is resolved once, inside the root.
 */
function mountUser(rootFd: number, m: InitMount): void {
  const kind = m.type === "tmpfs" || statSync(m.source).isDirectory() ? "dir" : "file";
  const fd = openMountTarget(rootFd, m.target, kind);
  try {
    if (m.type === "tmpfs") {
      const { flags, data } = tmpfsMount(m.options);
      mount("tmpfs", `/proc/self/fd/${fd}`, "tmpfs", flags, data);
      return;
    }
    if (m.copyUp && kind === "dir") copyUpIfEmpty(`/proc/self/fd/${fd}`, m.source);
    mount(m.source, `/proc/self/fd/${fd}`, null, MS_BIND | MS_REC);
  } finally {
    closeSync(fd);
  }
  if (!m.readOnly) return;
  // The read-only remount needs the new mount: the target is opened again, and must be the
  // root of what was just mounted there (the same inode as the source), not a swapped path.
  const mounted = openMountTarget(rootFd, m.target, kind);
  try {
    const [want, got] = [statSync(m.source), fstatSync(mounted)];
    if (want.dev !== got.dev || want.ino !== got.ino) {
      throw new Error(`mount target ${m.target} changed while it was mounted`);
    }
    mount(null, `/proc/self/fd/${mounted}`, null, MS_BIND | MS_REMOUNT | MS_RDONLY);
  } finally {
    closeSync(mounted);
  }
}

function maskPaths(root: string): void {
  for (const path of MASKED_PATHS) {
    const target = secureJoin(root, path);
    if (!existsSync(target)) continue;
    if (statSync(target).isDirectory()) mount("tmpfs", target, "tmpfs", MS_RDONLY);
    else mount(join(root, "dev/null"), target, null, MS_BIND);
  }
  for (const path of READONLY_PATHS) {
    const target = secureJoin(root, path);
    if (!existsSync(target)) continue;
    bindMount(target, target, MS_NOSUID | MS_NODEV | MS_NOEXEC, true);
  }
}

/**
 * /sys/fs/cgroup as Docker shows it: the container's own cgroups, read-only (runtimes such as
 * the JVM and Go size themselves from them). The init is in its cgroup namespace already, so
 * each hierarchy mounted here is rooted at the container's cgroup.
 */
function mountCgroups(root: string): void {
  const target = secureJoin(root, "/sys/fs/cgroup");
  mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
  const layout = hostCgroupLayout();
  const flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
  if (layout.kind === "v2") {
    mount("cgroup2", target, "cgroup2", flags);
    return;
  }
  // One mount per hierarchy, named as on the host ("memory", "cpu,cpuacct", "systemd").
  const byMountpoint = new Map<string, string[]>();
  for (const [controller, mountpoint] of layout.mounts) {
    byMountpoint.set(mountpoint, [...(byMountpoint.get(mountpoint) ?? []), controller]);
  }
  for (const [mountpoint, controllers] of byMountpoint) {
    const dir = join(target, basename(mountpoint));
    ensureDir(dir);
    const options = controllers.map((c) => (c.startsWith("name=") ? `none,${c}` : c)).join(",");
    mount("cgroup", dir, "cgroup", flags, options);
  }
  mount(null, target, null, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/** Mounts everything under the container's root; the caller then pivots. */
export function setupRootfs(spec: InitSpec): void {
  const root = spec.rootfs.mountPoint;
  mountOverlay(spec.rootfs);
  const proc = secureJoin(root, "/proc");
  ensureDir(proc);
  mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  mountDev(root);
  const sys = secureJoin(root, "/sys");
  ensureDir(sys);
  mount("sysfs", sys, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
  mountCgroups(root);
  for (const file of spec.etcFiles) {
    const target = secureJoin(root, file.target);
    ensureFile(target);
    mount(file.source, target, null, MS_BIND);
  }
  if (spec.process.initBinary) {
    const target = join(root, "dev/init");
    ensureFile(target);
    bindMount(spec.process.initBinary, target, MS_NOSUID | MS_NODEV, true);
  }
  const rootFd = openRoot(root);
  try {
    for (const m of spec.mounts) {
      try {
        mountUser(rootFd, m);
      } catch (err) {
        throw new Error(`mount ${m.type} at ${m.target}: ${(err as Error).message}`);
      }
    }
  } finally {
    closeSync(rootFd);
  }
  maskPaths(root);
}

/** pivot_root(".", ".") then detach the old root, as runc does: no put_old dir needed. */
export function pivotInto(root: string, readOnly: boolean): void {
  process.chdir(root);
  pivotRoot(".", ".");
  mount(null, ".", null, MS_SLAVE | MS_REC);
  umount2(".", MNT_DETACH);
  process.chdir("/");
  if (readOnly) mount(null, "/", null, MS_BIND | MS_REMOUNT | MS_RDONLY);
}
