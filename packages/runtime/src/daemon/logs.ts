// Container logs: the container appends to <dir>/console.log itself (no process in between
// that could die); this module reads them for `logs`, with --tail and --follow.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync, watch } from "node:fs";
import { once } from "node:events";
import { readLineTimes, rotatedPath, timeAt, type LineTime } from "./log-keeper.js";
import type { Writable } from "node:stream";

/** Byte offset where the last `lines` lines of the file start. */
export function tailOffset(path: string, lines: number): number {
  const size = statSync(path).size;
  if (lines < 0) return 0;
  if (lines === 0) return size;
  const fd = openSync(path, "r");
  try {
    const chunk = Buffer.alloc(64 * 1024);
    let pos = size;
    let seen = 0;
    // A final line without its newline counts as a line.
    let skipTrailing = true;
    while (pos > 0) {
      const len = Math.min(chunk.length, pos);
      pos -= len;
      readSync(fd, chunk, 0, len, pos);
      for (let i = len - 1; i >= 0; i--) {
        if (chunk[i] !== 10) {
          skipTrailing = false;
          continue;
        }
        if (skipTrailing && pos + i === size - 1) continue;
        if (++seen === lines) return pos + i + 1;
      }
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

export interface LogStreamOptions {
  follow: boolean;
  /** Lines from the end of the live log; -1 for everything, the rotated file included. */
  tail: number;
  /** Prefix each line with the time the daemon saw it (RFC 3339, as `docker logs -t`). */
  timestamps: boolean;
  /** Resolves when the container is no longer running: following ends after a last read. */
  stopped: () => Promise<void>;
}

/** Copies bytes of one log file from an offset, optionally prefixing lines with their times. */
class LogCopier {
  private index: LineTime[];
  private atLineStart = true;
  private readonly buf = Buffer.alloc(64 * 1024);

  constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly out: Writable,
    private readonly timestamps: boolean,
  ) {
    this.index = timestamps ? readLineTimes(path) : [];
  }

  private lineTime(offset: number): string {
    if ((this.index.at(-1)?.offset ?? -1) < offset) this.index = readLineTimes(this.path);
    return timeAt(this.index, offset) ?? new Date().toISOString();
  }

  async copyFrom(start: number): Promise<number> {
    let pos = fstatSync(this.fd).size < start ? 0 : start; // truncated by rotation: start over
    for (;;) {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, pos);
      if (n === 0) return pos;
      const chunk = Buffer.from(this.buf.subarray(0, n));
      let data = chunk;
      if (this.timestamps) {
        const parts: Buffer[] = [];
        let from = 0;
        for (let i = 0; i < n; i++) {
          if (this.atLineStart) {
            parts.push(chunk.subarray(from, i), Buffer.from(`${this.lineTime(pos + i)} `));
            from = i;
          }
          this.atLineStart = chunk[i] === 10;
        }
        parts.push(chunk.subarray(from));
        data = Buffer.concat(parts);
      }
      pos += n;
      if (!this.out.write(data)) await once(this.out, "drain");
    }
  }
}

/**
 * Copies the log to `out`, then (with follow) what is appended until the container stops. Reads
 * through open fds, so that a container removed meanwhile (`--rm`) still gets its last lines out.
 */
export async function streamLog(
  path: string,
  out: Writable,
  opts: LogStreamOptions,
): Promise<void> {
  if (!existsSync(path)) return;
  const previous = rotatedPath(path);
  if (opts.tail < 0 && existsSync(previous)) {
    const fd = openSync(previous, "r");
    try {
      await new LogCopier(fd, previous, out, opts.timestamps).copyFrom(0);
    } finally {
      closeSync(fd);
    }
  }
  const fd = openSync(path, "r");
  try {
    const copier = new LogCopier(fd, path, out, opts.timestamps);
    let offset = await copier.copyFrom(tailOffset(path, opts.tail));
    if (!opts.follow) return;
    let stopped = false;
    let wake: (() => void) | undefined;
    void opts.stopped().then(() => {
      stopped = true;
      wake?.();
    });
    const watcher = watch(path, () => wake?.());
    watcher.on("error", () => undefined); // the file may be removed with its container
    let closed = false;
    out.once("close", () => {
      closed = true;
      wake?.();
    });
    try {
      while (!closed) {
        offset = await copier.copyFrom(offset);
        if (stopped) {
          await copier.copyFrom(offset);
          return;
        }
        // inotify wakes us on writes; the timer covers what it can miss.
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 250).unref();
        });
      }
    } finally {
      watcher.close();
    }
  } finally {
    closeSync(fd);
  }
}
