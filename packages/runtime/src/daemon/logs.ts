// Container logs: the container appends to <dir>/console.log itself (no process in between
// that could die); this module reads them for `logs` (--tail, --timestamps, --follow) as one
// stream across the rotated files, in bounded memory: a 64 KiB read buffer, one block of the
// time index, and what the client has not taken yet (writes wait for 'drain'; a client that
// goes away ends the stream and frees everything).
import { closeSync, existsSync, fstatSync, openSync, readSync, watch } from "node:fs";
import type { Writable } from "node:stream";
import {
  LineTimes,
  currentHeader,
  ensureIndex,
  logSegments,
  type LogSegment,
} from "./log-index.js";
import type { LogKeeper } from "./log-keeper.js";

const CHUNK = 64 * 1024;
/** Smaller reads with times: a chunk of short lines grows ~4x once each line carries a time. */
const STAMPED_CHUNK = 16 * 1024;
const NEWLINE = 10;
/** "2026-01-02T03:04:05.678Z " */
const STAMP_BYTES = 25;

export interface LogStreamOptions {
  follow: boolean;
  /** Lines from the end; -1 for everything, the rotated files included. */
  tail: number;
  /** Prefix each line with the time the daemon saw it (RFC 3339, as `docker logs -t`). */
  timestamps: boolean;
  /** Resolves when the container is no longer running: following ends after a last read. */
  stopped: () => Promise<void>;
  /** The keeper of running containers' logs: makes the index cover what is read. */
  keeper?: LogKeeper | undefined;
}

/** Resolves true once `out` drained, false if it closed or failed first (the client went away). */
function drained(out: Writable): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      out.off("drain", onDrain);
      out.off("close", onClose);
      out.off("error", onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    out.on("drain", onDrain);
    out.on("close", onClose);
    out.on("error", onClose);
  });
}

interface OutputSlot {
  buf: Buffer;
  /** Settles when the stream is done with `buf`. */
  inFlight: Promise<void> | undefined;
  drain: boolean;
}

/** Resolves true once `p` settles, false if `out` closes or fails first. */
function settled(p: Promise<void>, out: Writable): Promise<boolean> {
  if (out.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = (): void => {
      out.off("close", onClose);
      out.off("error", onClose);
      resolve(false);
    };
    out.on("close", onClose);
    out.on("error", onClose);
    void p.then(() => {
      out.off("close", onClose);
      out.off("error", onClose);
      resolve(true);
    });
  });
}

/** Reads a log's files as one sequence of logical offsets (see log-index.ts). */
export class LogReader {
  private readonly liveFd: number;
  private base: number;
  private readonly times: LineTimes | undefined;
  private readonly buf = Buffer.alloc(CHUNK);
  /**
   * Output buffers, reused once the stream has taken them (its write callback), so that a big
   * log read with times does not churn the daemon's heap: two, so that one fills while the
   * other is sent.
   */
  private readonly slots: OutputSlot[] = [0, 1].map(() => ({
    buf: Buffer.allocUnsafe(CHUNK),
    inFlight: undefined,
    drain: false,
  }));
  private nextSlot = 0;
  private atLineStart = true;
  private stampTime = NaN;
  private stamp = Buffer.alloc(0);

  constructor(
    private readonly path: string,
    timestamps: boolean,
    private readonly keeper?: LogKeeper,
  ) {
    this.base = ensureIndex(path).base;
    // Read through an open fd, so that a container removed meanwhile (`--rm`) still gets its
    // last lines out.
    this.liveFd = openSync(path, "r");
    this.times = timestamps ? new LineTimes(path) : undefined;
  }

  close(): void {
    closeSync(this.liveFd);
    this.times?.close();
  }

  /** The files now, oldest first, and the logical end of what may be read. */
  segments(): { segments: LogSegment[]; end: number } {
    const kept = this.keeper?.indexed(this.path);
    this.base = kept?.base ?? currentHeader(this.path)?.base ?? this.base;
    const size = fstatSync(this.liveFd).size;
    // With times, stop at what the keeper has indexed: past it a line has no time yet.
    const end = kept && this.times ? Math.min(kept.scanned, this.base + size) : this.base + size;
    return { segments: logSegments(this.path, this.base, size), end };
  }

  /** The logical offset where the last `lines` lines start (a final line without newline counts). */
  tailStart(lines: number): number {
    const { segments, end } = this.segments();
    const first = segments[0]?.base ?? this.base;
    if (lines < 0) return first;
    if (lines === 0) return end;
    let pos = end;
    let seen = 0;
    let skipTrailing = true;
    while (pos > first) {
      const len = Math.min(CHUNK, pos - first);
      const n = this.readAt(segments, pos - len, len, true);
      if (n <= 0) break;
      pos -= n;
      for (let i = n - 1; i >= 0; i--) {
        if (this.buf[i] !== NEWLINE) {
          skipTrailing = false;
          continue;
        }
        if (skipTrailing && pos + i === end - 1) continue;
        if (++seen === lines) return pos + i + 1;
      }
    }
    return first;
  }

  /**
   * Copies from `pos` to the current end to `out`, waiting for the client as it goes. Returns
   * the offset reached, or undefined if the client went away.
   */
  async copy(pos: number, out: Writable): Promise<number | undefined> {
    for (;;) {
      const { segments, end } = this.segments();
      pos = Math.max(pos, segments[0]?.base ?? pos); // older lines went with max-file
      if (pos >= end) return pos;
      this.times?.sync();
      const n = this.readAt(
        segments,
        pos,
        Math.min(this.times ? STAMPED_CHUNK : CHUNK, end - pos),
        false,
      );
      if (n <= 0) return pos;
      const slot = this.slots[this.nextSlot] as OutputSlot;
      this.nextSlot = (this.nextSlot + 1) % this.slots.length;
      if (slot.inFlight && !(await settled(slot.inFlight, out))) return undefined;
      const data = this.times ? this.stamped(slot, pos, n) : this.plain(slot, n);
      pos += n;
      if (out.destroyed || out.writableEnded) return undefined;
      slot.inFlight = new Promise<void>((resolve) => {
        if (!out.write(data, () => resolve())) slot.drain = true;
      });
      if (slot.drain && !(await drained(out))) return undefined;
      slot.drain = false;
    }
  }

  /**
   * Reads up to `len` bytes at logical `pos` into the buffer, from the one file that holds
   * `pos` (backwards: the one that holds the byte before `pos + len`, ending the read there).
   */
  private readAt(segments: LogSegment[], pos: number, len: number, backwards: boolean): number {
    const probe = backwards ? pos + len - 1 : pos;
    const seg = segments.find((s) => s.base <= probe && probe < s.base + s.size);
    if (!seg) return 0;
    let from = pos;
    let to = pos + len;
    if (backwards) from = Math.max(from, seg.base);
    else to = Math.min(to, seg.base + seg.size);
    const live = seg.path === this.path;
    let fd: number;
    try {
      fd = live ? this.liveFd : openSync(seg.path, "r");
    } catch {
      return 0; // rotated away meanwhile
    }
    try {
      const n = readSync(fd, this.buf, 0, to - from, from - seg.base);
      return backwards && n < to - from ? 0 : n;
    } finally {
      if (!live) closeSync(fd);
    }
  }

  /** The buffer's first `n` bytes (at logical `pos`) with each line prefixed by its time. */
  private plain(slot: OutputSlot, n: number): Buffer {
    return this.buf.copy(slot.buf, 0, 0, n) === n ? slot.buf.subarray(0, n) : Buffer.alloc(0);
  }

  private stamped(slot: OutputSlot, pos: number, n: number): Buffer {
    const chunk = this.buf.subarray(0, n);
    const starts: number[] = [];
    if (this.atLineStart) starts.push(0);
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, nl + 1))
      if (nl + 1 < n) starts.push(nl + 1);
    this.atLineStart = chunk[n - 1] === NEWLINE;
    const needed = n + starts.length * STAMP_BYTES;
    if (slot.buf.length < needed) slot.buf = Buffer.allocUnsafe(needed);
    const out = slot.buf;
    let at = 0;
    let from = 0;
    for (const start of starts) {
      at += chunk.copy(out, at, from, start);
      at += this.stampFor(pos + start).copy(out, at);
      from = start;
    }
    at += chunk.copy(out, at, from, n);
    return out.subarray(0, at);
  }

  private stampFor(offset: number): Buffer {
    // A line the index has no time for (a log older than any index) gets the time it is read.
    const time = this.times?.timeOf(offset) ?? Date.now();
    if (time !== this.stampTime) {
      this.stampTime = time;
      this.stamp = Buffer.from(`${new Date(time).toISOString()} `);
    }
    return this.stamp;
  }
}

/**
 * Copies the log to `out`, then (with follow) what is appended until the container stops or the
 * client goes away. Buffers are reused once `out` calls a write back: `out` must be done with a
 * chunk by then (a socket or an HTTP response is; a PassThrough whose reader keeps chunks is not).
 */
export async function streamLog(
  path: string,
  out: Writable,
  opts: LogStreamOptions,
): Promise<void> {
  if (!existsSync(path)) return;
  const reader = new LogReader(path, opts.timestamps, opts.keeper);
  try {
    let pos = await reader.copy(reader.tailStart(opts.tail), out);
    if (!opts.follow || pos === undefined) return;
    let stopped = false;
    let closed = false;
    let wake: (() => void) | undefined;
    const wakeUp = (): void => wake?.();
    const onClose = (): void => {
      closed = true;
      wakeUp();
    };
    void opts.stopped().then(() => {
      stopped = true;
      wakeUp();
    });
    const watcher = watch(path, wakeUp);
    watcher.on("error", () => undefined); // the file may be removed with its container
    out.once("close", onClose);
    out.once("error", onClose);
    try {
      while (!closed && pos !== undefined) {
        const last = stopped;
        pos = await reader.copy(pos, out);
        if (last) return;
        // inotify wakes us on writes; the timer covers what it can miss.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 250);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      watcher.close();
      out.off("close", onClose);
      out.off("error", onClose);
    }
  } finally {
    reader.close();
  }
}
