// Container logs: the container appends to <dir>/console.log itself (no process in between
// that could die); this module reads them for `logs`, with --tail and --follow.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync, watch } from "node:fs";
import { once } from "node:events";
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
  tail: number;
  /** Resolves when the container is no longer running: following ends after a last read. */
  stopped: () => Promise<void>;
}

/**
 * Copies the log to `out`, then (with follow) what is appended until the container stops. Reads
 * through one open fd, so that a container removed meanwhile (`--rm`) still gets its last lines out.
 */
export async function streamLog(
  path: string,
  out: Writable,
  opts: LogStreamOptions,
): Promise<void> {
  if (!existsSync(path)) return;
  const fd = openSync(path, "r");
  try {
    let offset = tailOffset(path, opts.tail);
    const buf = Buffer.alloc(64 * 1024);
    const copyFrom = async (start: number): Promise<number> => {
      let pos = fstatSync(fd).size < start ? 0 : start; // truncated by rotation: start over
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) return pos;
        pos += n;
        if (!out.write(Buffer.from(buf.subarray(0, n)))) await once(out, "drain");
      }
    };
    offset = await copyFrom(offset);
    if (!opts.follow) return;
    let stopped = false;
    void opts.stopped().then(() => {
      stopped = true;
      wake?.();
    });
    let wake: (() => void) | undefined;
    const watcher = watch(path, () => wake?.());
    watcher.on("error", () => undefined); // the file may be removed with its container
    let closed = false;
    out.once("close", () => {
      closed = true;
      wake?.();
    });
    try {
      while (!closed) {
        offset = await copyFrom(offset);
        if (stopped) {
          await copyFrom(offset);
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
