// Keeps the logs of running containers: records when lines appear (the sparse index of
// log-index.ts, for `logs -t`) and rotates a log past its max size. The container appends to its
// log file itself, so this only observes: if the daemon is down, output is still written, and
// lines written meanwhile get the time the restarted daemon first sees them; rotation waits for
// the daemon too.
//
// A scan costs a few system calls whatever was written: the index needs only the first line
// start of the new bytes (found with Buffer.indexOf, usually at the first byte) and whether the
// output ends with a newline; lines are never walked one by one. What costs is being woken:
// inotify reports every write(), and one event per echo of a chatty shell (a JS callback each)
// cost more than all the scans. So a quiet log is watched with inotify (its first new line is
// seen at once) and a busy one is polled instead: the first event closes the watch, then a timer
// scans every SCAN_INTERVAL_MS until a scan finds nothing new, and the watch is set again. The
// daemon's cost is then at most one scan per busy log per interval, whatever the containers
// write, and a line's time is off by at most that interval.
//
// Rotation without losing a line. The container holds its own O_APPEND fd on console.log, so
// the file cannot be renamed and reopened under it (Docker's json-file and conmon can: they are
// the writers), and copy-then-truncate loses what is written between the two. Instead (as
// logrotate's proposed "copyreduce" mode): copy the head of the file, block-aligned, to
// console.log.1, then remove that head in place with fallocate(FALLOC_FL_COLLAPSE_RANGE). The
// kernel shifts the rest of the file down under the inode lock that appends also take, so a
// write lands either before the collapse (and moves down with the rest) or after it: nothing is
// lost or doubled. The cut is at a block boundary, not a line boundary, so a line may span
// console.log.1 and console.log; `logs` reads the files as one stream. ext4 and xfs support the
// collapse; on other filesystems (tmpfs, btrfs, overlay) the keeper falls back to copying all
// and truncating, which can lose the lines written in between, and says so in the daemon's log.
import {
  closeSync,
  copyFileSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  watch,
  writeSync,
  type FSWatcher,
} from "node:fs";
import { FALLOC_FL_COLLAPSE_RANGE, SyscallError, fallocate } from "../syscall/index.js";
import { IndexWriter, logSegments, rotatedPath } from "./log-index.js";

export { rotatedPath } from "./log-index.js";

export interface LogLimits {
  /** Rotate the live file past this size. */
  maxBytes?: number | undefined;
  /** Files kept in all, the live one included (Docker's max-file); default 2. */
  maxFiles?: number | undefined;
}

/** The limits a container asked for with --log-opt. */
export const logLimits = (req: { logMaxSizeBytes?: number; logMaxFiles?: number }): LogLimits => ({
  maxBytes: req.logMaxSizeBytes,
  maxFiles: req.logMaxFiles,
});

interface Watched {
  path: string;
  limits: LogLimits;
  /** The live file, read and written (the collapse needs a writable fd). */
  fd: number;
  index: IndexWriter;
  /** Whether the byte at the scanned extent starts a line. */
  atLineStart: boolean;
  /** Set while the log is quiet; closed while it is polled. */
  watcher: FSWatcher | undefined;
  /** Backs the watch up (e.g. a watch that failed). */
  fallback: NodeJS.Timeout;
  /** The next scan while the log is busy. */
  pending: NodeJS.Timeout | undefined;
  /** When the header (the scanned extent) was last written. */
  headerWritten: number;
  collapseUnsupported: boolean;
}

const FALLBACK_POLL_MS = 30_000;
/** At most one scan per log in this interval while output keeps coming. */
export const SCAN_INTERVAL_MS = 100;
const NEWLINE = 10;

export class LogKeeper {
  private readonly watched = new Map<string, Watched>();
  private readonly byPath = new Map<string, Watched>();

  constructor(private readonly warn: (message: string) => void = console.error) {}

  watch(id: string, path: string, limits: LogLimits = {}): void {
    if (this.watched.has(id)) return;
    let fd: number;
    try {
      fd = openSync(path, "r+");
    } catch {
      return; // no log (yet): nothing to keep
    }
    const index = new IndexWriter(path);
    const w: Watched = {
      path,
      limits,
      fd,
      index,
      atLineStart:
        index.scanned === index.base || byteAt(fd, index.scanned - index.base - 1) === NEWLINE,
      watcher: undefined,
      // With 200 idle containers, a 1 s poll alone cost the daemon 5% of a core: slow.
      fallback: setInterval(() => this.poll(w), FALLBACK_POLL_MS),
      pending: undefined,
      headerWritten: 0,
      collapseUnsupported: false,
    };
    w.fallback.unref();
    this.arm(w);
    this.watched.set(id, w);
    this.byPath.set(path, w);
    this.poll(w);
  }

  /** A last scan, then stop watching (the container has exited). */
  unwatch(id: string): void {
    const w = this.watched.get(id);
    if (!w) return;
    this.scan(w);
    w.index.setHeader({ base: w.index.base, scanned: w.index.scanned });
    w.watcher?.close();
    clearInterval(w.fallback);
    clearTimeout(w.pending);
    w.index.close();
    closeSync(w.fd);
    this.watched.delete(id);
    this.byPath.delete(w.path);
  }

  close(): void {
    for (const id of [...this.watched.keys()]) this.unwatch(id);
  }

  /**
   * For a reader about to read a live log with times: scans now, and returns the live file's base
   * and the extent indexed (bytes past it have no time yet). Undefined if the log is not kept.
   */
  indexed(path: string): { base: number; scanned: number } | undefined {
    const w = this.byPath.get(path);
    if (!w) return undefined;
    this.scan(w);
    return { base: w.index.base, scanned: w.index.scanned };
  }

  /** Watches a quiet log with inotify. */
  private arm(w: Watched): void {
    if (w.watcher) return;
    try {
      w.watcher = watch(w.path, () => this.busy(w));
      w.watcher.on("error", () => undefined);
    } catch {
      w.watcher = undefined; // removed with its container: the fallback poll notices nothing
    }
  }

  /** Output arrived on a quiet log: stop the per-write events, scan, poll while it lasts. */
  private busy(w: Watched): void {
    w.watcher?.close();
    w.watcher = undefined;
    this.poll(w);
  }

  private poll(w: Watched): void {
    clearTimeout(w.pending);
    w.pending = undefined;
    if (this.scan(w)) {
      w.pending = setTimeout(() => this.poll(w), SCAN_INTERVAL_MS);
      return;
    }
    if (w.watcher) return;
    this.arm(w);
    // What came between the last scan and the new watch has no event of its own.
    if (this.scan(w)) this.busy(w);
  }

  /** Indexes what was appended since the last scan; true if there was something. */
  private scan(w: Watched): boolean {
    let size: number;
    try {
      size = fstatSync(w.fd).size;
    } catch {
      return false;
    }
    const { base, scanned } = w.index;
    if (base + size === scanned) return false; // nothing new: one fstat
    if (base + size < scanned) {
      // Truncated behind our back: what follows continues the log's logical offsets.
      w.index.setHeader({ base: scanned, scanned });
      w.atLineStart = true;
      return size > 0 && this.scan(w);
    }
    const now = Date.now();
    const from = scanned - base;
    const lineStart = w.atLineStart ? from : nextLineStart(w.fd, from, size);
    if (lineStart !== undefined) w.index.append(base + lineStart, now);
    w.atLineStart = byteAt(w.fd, size - 1) === NEWLINE;
    // The scanned extent on disk only matters to a restarted daemon (unwatch writes it too):
    // once a second is enough, and costs no write per scan.
    w.index.advance(base + size, now - w.headerWritten >= 1000);
    if (now - w.headerWritten >= 1000) w.headerWritten = now;
    const { maxBytes } = w.limits;
    if (maxBytes !== undefined && size > maxBytes) this.rotate(w, size);
    return true;
  }

  private rotate(w: Watched, size: number): void {
    const keep = Math.max(0, (w.limits.maxFiles ?? 2) - 1);
    const block = fstatSync(w.fd).blksize || 4096;
    // The collapse works on whole blocks and must leave at least one byte.
    let cut = Math.floor(size / block) * block;
    if (cut === size) cut -= block;
    if (cut <= 0) return;
    const previous = `${rotatedPath(w.path)}.tmp`;
    if (keep > 0) {
      copyFileSync(w.path, previous);
      truncateSync(previous, cut);
      const fd = openSync(previous, "r+");
      try {
        fdatasyncSync(fd); // on disk before its bytes leave the live file
      } finally {
        closeSync(fd);
      }
    }
    try {
      if (w.collapseUnsupported) throw new Error("collapse unsupported");
      fallocate(w.fd, FALLOC_FL_COLLAPSE_RANGE, 0, cut, w.path);
    } catch (err) {
      if (!w.collapseUnsupported) {
        w.collapseUnsupported = true;
        const why = err instanceof SyscallError ? err.code : String(err);
        this.warn(
          `log rotation of ${w.path} copies and truncates (fallocate collapse: ${why}): lines written during a rotation can be lost on this filesystem`,
        );
      }
      cut = this.copyTruncate(w, keep > 0 ? previous : undefined, cut);
    }
    if (keep > 0) {
      rmSync(rotatedPath(w.path, keep), { force: true });
      for (let n = keep - 1; n >= 1; n--) {
        try {
          renameSync(rotatedPath(w.path, n), rotatedPath(w.path, n + 1));
        } catch {
          // not there yet
        }
      }
      renameSync(previous, rotatedPath(w.path));
    }
    for (let n = keep + 1; statExists(rotatedPath(w.path, n)); n++)
      rmSync(rotatedPath(w.path, n), { force: true }); // max-file lowered since
    const base = w.index.base + cut;
    const segments = logSegments(w.path, base, fstatSync(w.fd).size);
    w.index.rebase(base, segments[0]?.base ?? base);
  }

  /** The lossy fallback: appends the rest of the live file to the copy, truncates; the bytes moved. */
  private copyTruncate(w: Watched, previous: string | undefined, copied: number): number {
    const size = fstatSync(w.fd).size;
    if (previous) {
      const out = openSync(previous, "a");
      try {
        const buf = Buffer.alloc(64 * 1024);
        for (let pos = copied; pos < size;) {
          const n = readSync(w.fd, buf, 0, Math.min(buf.length, size - pos), pos);
          if (n === 0) break;
          writeSync(out, buf, 0, n);
          pos += n;
        }
      } finally {
        closeSync(out);
      }
    }
    ftruncateSync(w.fd, 0);
    return size;
  }
}

function statExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function byteAt(fd: number, pos: number): number | undefined {
  if (pos < 0) return undefined;
  const b = Buffer.alloc(1);
  return readSync(fd, b, 0, 1, pos) === 1 ? b[0] : undefined;
}

/** Where the first line after `from` starts (the byte after a newline), if one has begun. */
function nextLineStart(fd: number, from: number, size: number): number | undefined {
  const buf = Buffer.alloc(Math.min(64 * 1024, size - from));
  for (let pos = from; pos < size;) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (n === 0) return undefined;
    const nl = buf.subarray(0, n).indexOf(NEWLINE);
    if (nl >= 0) return pos + nl + 1 < size ? pos + nl + 1 : undefined;
    pos += n;
  }
  return undefined;
}
