// File access shared by the v1 and v2 managers; writes name the value and the file in errors.
//
// Synchronous fs calls on purpose, behind async functions (so callers need not change if one
// ever has to block): a cgroupfs read, write, mkdir or rmdir is served from kernel memory in
// 10-40 µs, while fs/promises spends ~100 µs of CPU per call on the thread pool round trips.
// Measured here: a v1 create (9 hierarchies, device rules, limits) took ~5 ms async, stats of
// 200 containers 250 ms of CPU async vs ~50 ms sync. The one write that can take long is
// lowering a memory limit below current usage (the kernel reclaims first).
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmdirSync,
  writeSync,
  type Dirent,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CgroupError, errnoCode } from "./errors.js";
import { parsePidList } from "./parse.js";

/** The file's text, or `undefined` when it does not exist (controller or feature missing). */
export async function readText(path: string): Promise<string | undefined> {
  return readTextSync(path);
}

/** `readText` for callers that are synchronous themselves (stats). */
export function readTextSync(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ENODEV") return undefined;
    throw new CgroupError(`read ${path}: ${code ?? String(err)}`, path, code);
  }
}

/** The one buffer pread-ing files read into: the daemon's loop reads one file at a time. */
let rereadBuffer = Buffer.allocUnsafe(16 * 1024);

/**
 * How many files `RereadableFile`s keep open at most: half the soft RLIMIT_NOFILE of
 * /proc/self/limits, so that sampling (11 files per v1 container) never starves the daemon's
 * sockets and files of descriptors; past it, a file is opened for each read.
 */
export function keptOpenBudget(limits: string): number {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
  if (!m) return 0;
  return m[1] === "unlimited" ? Infinity : Math.floor(Number(m[1]) / 2);
}

let budget: number | undefined;
let keptOpen = 0;

/**
 * A cgroupfs file read again and again through one descriptor: kernfs regenerates a file's text
 * on every read from offset 0, so each sample costs one pread instead of open, fstat, read and
 * close. Measured on this host, 200 containers' 11 v1 stat files: ~39 ms of CPU per round with
 * readFileSync, ~14 ms this way. The open descriptor does not hold up rmdir: once the cgroup
 * is removed, reads fail with ENODEV and the file reads as missing.
 */
export class RereadableFile {
  private fd: number | undefined;
  /** ENOENT once: the file is not there (controller or feature missing) and will not appear. */
  private missing = false;

  constructor(readonly path: string) {}

  /** The file's current text, or `undefined` when it is missing or its cgroup was removed. */
  read(): string | undefined {
    if (this.missing) return undefined;
    if (this.fd === undefined) {
      budget ??= keptOpenBudget(readTextSync("/proc/self/limits") ?? "");
      if (keptOpen >= budget) return readTextSync(this.path);
    }
    try {
      if (this.fd === undefined) {
        this.fd = openSync(this.path, constants.O_RDONLY);
        keptOpen++;
      }
      let length = 0;
      for (;;) {
        if (length === rereadBuffer.length) {
          const bigger = Buffer.allocUnsafe(rereadBuffer.length * 2);
          rereadBuffer.copy(bigger);
          rereadBuffer = bigger;
        }
        const n = readSync(this.fd, rereadBuffer, length, rereadBuffer.length - length, length);
        if (n === 0) break;
        length += n;
      }
      return rereadBuffer.toString("utf8", 0, length);
    } catch (err) {
      const code = errnoCode(err);
      if (code === "ENOENT" || code === "ENODEV") {
        this.close();
        this.missing = true;
        return undefined;
      }
      throw new CgroupError(`read ${this.path}: ${code ?? String(err)}`, this.path, code);
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    keptOpen--;
  }
}

// cgroupfs files exist or not; never create one (O_CREAT would hide a missing controller).
const WRITE_FLAGS = constants.O_WRONLY | constants.O_TRUNC;

export async function writeValue(
  path: string,
  value: string | number,
  hint?: string,
): Promise<void> {
  try {
    const fd = openSync(path, WRITE_FLAGS);
    try {
      writeSync(fd, String(value));
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = errnoCode(err);
    const why = hint ? `: ${hint}` : "";
    throw new CgroupError(`write "${value}" to ${path}: ${code ?? String(err)}${why}`, path, code);
  }
}

export async function exists(path: string): Promise<boolean> {
  return (await readText(join(path, "cgroup.procs"))) !== undefined;
}

/** mkdir of one cgroup; false if it already existed. */
export async function mkdirOne(dir: string): Promise<boolean> {
  try {
    mkdirSync(dir);
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === "EEXIST") return false;
    throw new CgroupError(`create cgroup ${dir}: ${code ?? String(err)}`, dir, code);
  }
}

/** `dir` and every cgroup below it, deepest first (the order rmdir needs). */
export async function descendantsDeepestFirst(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return [];
    throw err;
  }
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) out.push(...(await descendantsDeepestFirst(join(dir, entry.name))));
  }
  out.push(dir);
  return out;
}

/** Pids in `dir` and its descendants. */
export async function pidsRecursive(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const cg of await descendantsDeepestFirst(dir)) {
    const text = await readText(join(cg, "cgroup.procs"));
    if (text !== undefined) pids.push(...parsePidList(text));
  }
  return pids;
}

/**
 * Removes `dir` and its child cgroups. A cgroup whose last task just exited can still report
 * EBUSY for a moment (v1 memory, dying css), so retry briefly.
 */
export async function removeTree(dir: string, timeoutMs = 5000): Promise<void> {
  for (const cg of await descendantsDeepestFirst(dir)) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        rmdirSync(cg);
        break;
      } catch (err) {
        const code = errnoCode(err);
        if (code === "ENOENT") break;
        if (code === "EBUSY" && Date.now() < deadline) {
          await sleep(10);
          continue;
        }
        throw new CgroupError(
          `remove cgroup ${cg}: ${code ?? String(err)}` +
            (code === "EBUSY" ? " (processes are still in it: kill them first)" : ""),
          cg,
          code,
        );
      }
    }
  }
}

/** Polls `check` every few ms until it returns true; throws `describe()` after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => Promise<string> | string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  while (!(await check())) {
    if (Date.now() >= deadline) throw new CgroupError(await describe());
    await sleep(delay);
    delay = Math.min(delay * 2, 20);
  }
}

/** Sends `signal` to each pid, ignoring ones that already exited. */
export function signalPids(pids: readonly number[], signal: NodeJS.Signals | number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if (errnoCode(err) !== "ESRCH") throw err;
    }
  }
}
