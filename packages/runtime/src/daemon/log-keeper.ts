// Keeps the logs of running containers: records when each line appeared (for `logs -t`) and
// rotates a log past its max size. The container appends to its log file itself, so this only
// observes: if the daemon is down, output is still written, and lines written meanwhile get
// the time the restarted daemon first sees them; rotation waits for the daemon too.
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  watch,
  type FSWatcher,
} from "node:fs";

export interface LineTime {
  offset: number;
  time: string;
}

interface Watched {
  path: string;
  maxBytes: number | undefined;
  /** Bytes of the log already indexed. */
  offset: number;
  /** Whether the next byte starts a line. */
  atLineStart: boolean;
  watcher: FSWatcher;
  timer: NodeJS.Timeout;
}

const FALLBACK_POLL_MS = 30_000;

export const indexPath = (logPath: string): string => `${logPath}.times`;
export const rotatedPath = (path: string): string => `${path}.1`;

/** The line-start index of a log: "offset ISO-time" per line. */
export function readLineTimes(logPath: string): LineTime[] {
  const file = indexPath(logPath);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [offset = "0", time = ""] = l.split(" ");
      return { offset: Number(offset), time };
    });
}

/** The time of the line starting at or before `offset` (binary search). */
export function timeAt(index: readonly LineTime[], offset: number): string | undefined {
  let lo = 0;
  let hi = index.length - 1;
  let found: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const entry = index[mid] as LineTime;
    if (entry.offset <= offset) {
      found = entry.time;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export class LogKeeper {
  private readonly watched = new Map<string, Watched>();

  watch(id: string, path: string, maxBytes: number | undefined): void {
    if (this.watched.has(id) || !existsSync(path)) return;
    const index = readLineTimes(path);
    const last = index.at(-1);
    // Resume after the last indexed line; its rest (if any) needs no new entry.
    const offset = last ? last.offset + 1 : 0;
    const w: Watched = {
      path,
      maxBytes,
      offset,
      atLineStart: last === undefined,
      watcher: watch(path, () => this.scan(w)),
      // inotify reports every append; a slow poll only backs it up (e.g. a watch that failed).
      // With 200 idle containers, a 1 s poll alone cost the daemon 5% of a core.
      timer: setInterval(() => this.scan(w), FALLBACK_POLL_MS),
    };
    w.watcher.on("error", () => undefined);
    w.timer.unref();
    this.watched.set(id, w);
    this.scan(w);
  }

  /** A last scan, then stop watching (the container has exited). */
  unwatch(id: string): void {
    const w = this.watched.get(id);
    if (!w) return;
    this.scan(w);
    w.watcher.close();
    clearInterval(w.timer);
    this.watched.delete(id);
  }

  close(): void {
    for (const id of [...this.watched.keys()]) this.unwatch(id);
  }

  private scan(w: Watched): void {
    let size: number;
    try {
      size = statSync(w.path).size;
    } catch {
      return; // removed with its container
    }
    if (size === w.offset) return; // nothing new: one stat, no open
    let fd: number;
    try {
      fd = openSync(w.path, "r");
    } catch {
      return; // removed with its container
    }
    try {
      size = fstatSync(fd).size;
      if (size < w.offset) {
        w.offset = 0; // truncated behind our back
        w.atLineStart = true;
      }
      const now = new Date().toISOString();
      const entries: string[] = [];
      const buf = Buffer.alloc(64 * 1024);
      while (w.offset < size) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - w.offset), w.offset);
        if (n === 0) break;
        for (let i = 0; i < n; i++) {
          if (w.atLineStart) entries.push(`${w.offset + i} ${now}\n`);
          w.atLineStart = buf[i] === 10;
        }
        w.offset += n;
      }
      if (entries.length) appendFileSync(indexPath(w.path), entries.join(""));
      if (w.maxBytes !== undefined && size > w.maxBytes) this.rotate(w);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Keeps one previous file (console.log.1) and truncates the live one; the container's O_APPEND
   * writes continue at the new end. Lines written between copy and truncate are lost: the price
   * of having no process between the container and its log.
   */
  private rotate(w: Watched): void {
    copyFileSync(w.path, rotatedPath(w.path));
    truncateSync(w.path, 0);
    const previousIndex = indexPath(rotatedPath(w.path));
    if (existsSync(indexPath(w.path))) renameSync(indexPath(w.path), previousIndex);
    else rmSync(previousIndex, { force: true });
    w.offset = 0;
    w.atLineStart = true;
  }
}
