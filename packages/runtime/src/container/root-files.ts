// Paths inside a container's root that the host opens while the container controls what they
// hold: its /etc/passwd and /etc/group (exec -u NAME), and mount targets under a volume another
// container may change meanwhile (runc CVE-2021-30465). Every lookup is one openat2() with
// RESOLVE_IN_ROOT, so a symlink resolves inside the root as it would for the container and never
// reaches a host path, and what was checked is what gets used: an fd, not a path looked up again.
import { closeSync, fstatSync, readFileSync, readSync, readlinkSync } from "node:fs";
import {
  AT_FDCWD,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOCTTY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
  SyscallError,
  mkdirat,
  openat2,
} from "../syscall/index.js";
import { startTimeOf } from "../util/proc.js";

/** /etc/passwd and /etc/group are read up to this size: a bigger one is refused. */
export const MAX_ACCOUNT_FILE_BYTES = 4 * 1024 * 1024;

const IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof SyscallError && codes.includes(err.code);
}

/** An O_PATH fd of the directory `path` (a root to resolve in). */
export function openRoot(path: string): number {
  return openat2(AT_FDCWD, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
}

/**
 * The root directory of the running process `pid`, checked to be the process that started at
 * `startTime` (field 22 of its stat): a pid the container's init left and another process
 * took is refused. The /proc/PID fd the check reads through pins that one process.
 */
export function openProcessRoot(pid: number, startTime: string | undefined): number {
  let procFd: number;
  try {
    procFd = openat2(AT_FDCWD, `/proc/${pid}`, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  } catch (err) {
    if (isErrno(err, "ENOENT"))
      throw new Error(`process ${pid} is gone (has the container exited?)`);
    throw err;
  }
  try {
    if (startTime !== undefined) {
      const statFd = openat2(procFd, "stat", O_RDONLY | O_CLOEXEC, 0);
      let now: string | undefined;
      try {
        now = startTimeOf(readFileSync(statFd, "utf8"));
      } finally {
        closeSync(statFd);
      }
      if (now !== startTime) {
        throw new Error(
          `process ${pid} is not the container's any more (started at ${now ?? "?"}, not ${startTime})`,
        );
      }
    }
    // "root" is a magic link; following it here is the point (it is the kernel's, not the container's).
    return openat2(procFd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  } finally {
    closeSync(procFd);
  }
}

/**
 * The text of the regular file `path` inside `rootFd`, or undefined when there is none. A
 * device, fifo or directory there, or a file over `maxBytes`, is refused in one line: a
 * container that links /etc/passwd to /dev/zero must not make the host read forever.
 */
export function readFileInRoot(
  rootFd: number,
  path: string,
  maxBytes = MAX_ACCOUNT_FILE_BYTES,
): string | undefined {
  let fd: number;
  try {
    fd = openat2(rootFd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, IN_ROOT);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR", "ELOOP")) return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${path} in the container is not a regular file`);
    if (st.size > maxBytes) {
      throw new Error(`${path} in the container is larger than ${maxBytes} bytes`);
    }
    // Read at most one byte past the cap: the file may grow while it is read.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) {
        throw new Error(`${path} in the container is larger than ${maxBytes} bytes`);
      }
    }
    return buffer.toString("utf8", 0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * An O_PATH fd of the mount target `path` inside `rootFd`, made first when missing (as a
 * directory, or an empty file for a file bind), each missing component created through an fd
 * of its parent. Each prefix resolves from the root with RESOLVE_IN_ROOT, so symlinks on the
 * way resolve inside the root as runc's securejoin does, and the caller mounts on the fd.
 */
export function openMountTarget(
  rootFd: number,
  path: string,
  kind: "dir" | "file",
  links = 0,
): number {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  let parent = openat2(rootFd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  try {
    for (const [i, name] of parts.entries()) {
      const isDir = i < parts.length - 1 || kind === "dir";
      const prefix = parts.slice(0, i + 1).join("/");
      const open = (): number =>
        openat2(rootFd, prefix, O_PATH | O_CLOEXEC | (isDir ? O_DIRECTORY : 0), IN_ROOT);
      let fd: number;
      try {
        fd = open();
      } catch (err) {
        if (!isErrno(err, "ENOENT")) throw err;
        if (!createIn(parent, name, isDir)) {
          // A symlink to a missing path (the kernel's limit of 40 links applies here too):
          // its target is made inside the root, as runc's MkdirAll does.
          if (links >= 40) throw new SyscallError("openat2", 40 /* ELOOP */, path);
          const target = readlinkSync(`/proc/self/fd/${parent}/${name}`);
          const at = target.startsWith("/") ? target : `${parts.slice(0, i).join("/")}/${target}`;
          closeSync(openMountTarget(rootFd, at, isDir ? "dir" : "file", links + 1));
        }
        fd = open();
      }
      closeSync(parent);
      parent = fd;
    }
    const fd = parent;
    parent = -1;
    return fd;
  } finally {
    if (parent >= 0) closeSync(parent);
  }
}

/**
 * Makes `name` in the directory `dirFd` (never through a symlink). False when something
 * already has that name (made meanwhile, or a dangling symlink).
 */
function createIn(dirFd: number, name: string, isDir: boolean): boolean {
  try {
    if (isDir) mkdirat(dirFd, name, 0o755);
    else {
      const flags = O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
      closeSync(openat2(dirFd, name, flags, RESOLVE_NO_SYMLINKS, 0o644));
    }
    return true;
  } catch (err) {
    if (!isErrno(err, "EEXIST")) throw err;
    return false;
  }
}
