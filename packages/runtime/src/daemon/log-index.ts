// The time index of a container's log (`console.log.idx`): when each line was first seen, for
// `logs -t`. It is sparse and binary, sought and never read whole:
//
// - A 32-byte header (magic "CRLX", version, the live file's base, the extent already scanned),
//   then 16-byte records: a line start's logical offset (u64) and a time (f64, ms since the
//   epoch). The lines from a record's offset up to the next record's were first seen at its time.
// - The keeper writes at most one record per scan of new output (the first line start it finds,
//   if the clock has moved on since the last record): every line a scan finds was seen at the
//   same moment, so one record per scan holds what one record per line held. A 1M-line log that
//   cost 33 MB in the previous release's text format ("offset ISO-time" per line) costs a few
//   KB; a chatty container costs at most 16 bytes per scan (scans are throttled, see keeper).
// - A reader finds a line's time by binary search (a few 16-byte reads), then walks forward
//   holding one 64 KiB block of records: memory is bounded whatever the log's size.
//
// Offsets are logical: counted from the container's first byte of output, across rotations.
// The live file's byte 0 is at logical `base` (in the header); rotated files sit right before it
// (console.log.1 ends where the live file starts, .2 ends where .1 starts), so each file's base
// follows from the sizes of the newer ones and rotation never rewrites an offset: it only drops
// the records older than the oldest file kept.
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";

const MAGIC = 0x584c5243; // "CRLX" little-endian
const VERSION = 1;
export const HEADER_BYTES = 32;
export const RECORD_BYTES = 16;
const BLOCK_RECORDS = 4096;

export const indexPath = (logPath: string): string => `${logPath}.idx`;
/** The n-th previous file of a log (1 is the newest rotated one). */
export const rotatedPath = (logPath: string, n = 1): string => `${logPath}.${n}`;
/** The previous release's text index ("offset ISO-time\n" per line). */
const legacyIndexPath = (logPath: string): string => `${logPath}.times`;

export interface IndexHeader {
  /** Logical offset of the live file's first byte. */
  base: number;
  /** Logical offset up to which the keeper has scanned the log. */
  scanned: number;
}

export interface LogRecord {
  offset: number;
  time: number;
}

function encodeHeader(h: IndexHeader): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(VERSION, 4);
  b.writeBigUInt64LE(BigInt(h.base), 8);
  b.writeBigUInt64LE(BigInt(h.scanned), 16);
  return b;
}

function encodeRecord(r: LogRecord, into = Buffer.alloc(RECORD_BYTES), at = 0): Buffer {
  into.writeBigUInt64LE(BigInt(r.offset), at);
  into.writeDoubleLE(r.time, at + 8);
  return into;
}

function decodeRecord(b: Buffer, at: number): LogRecord {
  return { offset: Number(b.readBigUInt64LE(at)), time: b.readDoubleLE(at + 8) };
}

/** The header of an open index, or undefined if it is not one (torn write, foreign file). */
export function readHeader(fd: number): IndexHeader | undefined {
  const b = Buffer.alloc(HEADER_BYTES);
  if (readSync(fd, b, 0, HEADER_BYTES, 0) !== HEADER_BYTES) return undefined;
  if (b.readUInt32LE(0) !== MAGIC || b.readUInt32LE(4) !== VERSION) return undefined;
  return { base: Number(b.readBigUInt64LE(8)), scanned: Number(b.readBigUInt64LE(16)) };
}

const recordsIn = (fd: number): number =>
  Math.max(0, Math.floor((fstatSync(fd).size - HEADER_BYTES) / RECORD_BYTES));

function readRecord(fd: number, i: number): LogRecord | undefined {
  const b = Buffer.alloc(RECORD_BYTES);
  if (readSync(fd, b, 0, RECORD_BYTES, HEADER_BYTES + i * RECORD_BYTES) !== RECORD_BYTES)
    return undefined;
  return decodeRecord(b, 0);
}

/** Index of the last record at or before `offset` (-1 if none), by binary search on the file. */
function searchFile(fd: number, count: number, offset: number): number {
  let lo = 0;
  let hi = count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = readRecord(fd, mid);
    if (r && r.offset <= offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The size of a file, 0 if it is gone. */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Writes a whole new index through a temporary file and a rename. */
function writeIndexFile(
  path: string,
  header: IndexHeader,
  fill: (append: (r: LogRecord) => void) => void,
): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o640);
  try {
    writeSync(fd, encodeHeader(header), 0, HEADER_BYTES, 0);
    const block = Buffer.alloc(BLOCK_RECORDS * RECORD_BYTES);
    let n = 0;
    let at = HEADER_BYTES;
    const flush = (): void => {
      writeSync(fd, block, 0, n * RECORD_BYTES, at);
      at += n * RECORD_BYTES;
      n = 0;
    };
    fill((r) => {
      encodeRecord(r, block, n * RECORD_BYTES);
      if (++n === BLOCK_RECORDS) flush();
    });
    flush();
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * Converts the previous release's text index (of the live file and of console.log.1) into the
 * sparse one, streaming (it may be too big for one string), then removes it. That release kept
 * one previous file whose offsets, like the live file's, started at 0: the rotated file becomes
 * logical [0, its size), the live one follows it.
 */
function convertLegacy(logPath: string): IndexHeader {
  const rotated = rotatedPath(logPath);
  const base = existsSync(rotated) ? sizeOf(rotated) : 0;
  let last: LogRecord | undefined;
  const header: IndexHeader = { base, scanned: base };
  writeIndexFile(indexPath(logPath), header, (append) => {
    for (const [file, shift] of [
      [legacyIndexPath(rotated), 0],
      [legacyIndexPath(logPath), base],
    ] as const) {
      if (!existsSync(file)) continue;
      const fd = openSync(file, "r");
      try {
        const buf = Buffer.alloc(64 * 1024);
        let rest = "";
        let pos = 0;
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, pos);
          if (n === 0) break;
          pos += n;
          const lines = (rest + buf.toString("latin1", 0, n)).split("\n");
          rest = lines.pop() ?? "";
          for (const line of lines) {
            const [offset = "", iso = ""] = line.split(" ");
            const r = { offset: Number(offset) + shift, time: Date.parse(iso) };
            if (!Number.isFinite(r.offset) || !Number.isFinite(r.time)) continue;
            if (last && (r.offset <= last.offset || r.time === last.time)) continue;
            append(r);
            last = r;
          }
        }
      } finally {
        closeSync(fd);
      }
    }
  });
  // That release resumed after the last indexed line start; so does this one.
  if (last && last.offset >= base) {
    header.scanned = last.offset + 1;
    const fd = openSync(indexPath(logPath), "r+");
    try {
      writeSync(fd, encodeHeader(header), 0, HEADER_BYTES, 0);
    } finally {
      closeSync(fd);
    }
  }
  rmSync(legacyIndexPath(logPath), { force: true });
  rmSync(legacyIndexPath(rotated), { force: true });
  return header;
}

/**
 * The header of a log's index, creating the index (or converting the previous release's) if
 * there is none. A torn or foreign index is replaced: times are a convenience, the log is what
 * matters.
 */
export function ensureIndex(logPath: string): IndexHeader {
  const path = indexPath(logPath);
  if (existsSync(path)) {
    const fd = openSync(path, "r");
    try {
      const h = readHeader(fd);
      if (h) return h;
    } finally {
      closeSync(fd);
    }
  }
  if (existsSync(legacyIndexPath(logPath)) || existsSync(legacyIndexPath(rotatedPath(logPath))))
    return convertLegacy(logPath);
  const base = existsSync(rotatedPath(logPath)) ? sizeOf(rotatedPath(logPath)) : 0;
  const header = { base, scanned: base };
  writeIndexFile(path, header, () => undefined);
  return header;
}

/** The header as it is on disk now, or undefined if the index is gone (container removed). */
export function currentHeader(logPath: string): IndexHeader | undefined {
  let fd: number;
  try {
    fd = openSync(indexPath(logPath), "r");
  } catch {
    return undefined;
  }
  try {
    return readHeader(fd);
  } finally {
    closeSync(fd);
  }
}

/** One file of a log and where it sits in the log's logical offsets. */
export interface LogSegment {
  path: string;
  base: number;
  size: number;
}

/** The files of a log, oldest first: rotated ones (each ends where the newer one starts), then the live one. */
export function logSegments(logPath: string, liveBase: number, liveSize: number): LogSegment[] {
  const segments: LogSegment[] = [{ path: logPath, base: liveBase, size: liveSize }];
  let base = liveBase;
  for (let n = 1; ; n++) {
    const path = rotatedPath(logPath, n);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      break;
    }
    base -= size;
    segments.unshift({ path, base, size });
  }
  return segments;
}

/** The keeper's handle on an index: appends records, keeps the header current. */
export class IndexWriter {
  private fd: number;
  private count: number;
  private header: IndexHeader;
  private lastTime = NaN;

  constructor(private readonly logPath: string) {
    this.header = ensureIndex(logPath);
    this.fd = openSync(indexPath(logPath), "r+");
    this.count = recordsIn(this.fd);
    this.lastTime = (this.count > 0 && readRecord(this.fd, this.count - 1)?.time) || NaN;
  }

  get base(): number {
    return this.header.base;
  }

  get scanned(): number {
    return this.header.scanned;
  }

  /** Records that the lines from `offset` on were first seen at `time` (once per moment). */
  append(offset: number, time: number): void {
    if (time === this.lastTime) return;
    writeSync(this.fd, encodeRecord({ offset, time }), 0, RECORD_BYTES, this.recordAt(this.count));
    this.count++;
    this.lastTime = time;
  }

  /** The keeper scanned up to `scanned`; written to disk only if `persist`. */
  advance(scanned: number, persist: boolean): void {
    this.header.scanned = scanned;
    if (persist) this.setHeader(this.header);
  }

  setHeader(h: IndexHeader): void {
    this.header = { ...h };
    writeSync(this.fd, encodeHeader(this.header), 0, HEADER_BYTES, 0);
  }

  /**
   * After a rotation: the live file now starts at `base`, and nothing before `keepFrom` (the
   * oldest file kept) is needed. Rewrites the index without the older records; the line that
   * spans `keepFrom` keeps its time through a record at `keepFrom`.
   */
  rebase(base: number, keepFrom: number): void {
    const first = searchFile(this.fd, this.count, keepFrom);
    const header = { base, scanned: this.header.scanned };
    writeIndexFile(indexPath(this.logPath), header, (append) => {
      const block = Buffer.alloc(BLOCK_RECORDS * RECORD_BYTES);
      for (let i = Math.max(first, 0); i < this.count; i += BLOCK_RECORDS) {
        const n = readSync(this.fd, block, 0, block.length, this.recordAt(i)) / RECORD_BYTES;
        for (let j = 0; j < n; j++) {
          const r = decodeRecord(block, j * RECORD_BYTES);
          append(r.offset < keepFrom ? { offset: keepFrom, time: r.time } : r);
        }
      }
    });
    closeSync(this.fd);
    this.fd = openSync(indexPath(this.logPath), "r+");
    this.count = recordsIn(this.fd);
    this.header = header;
  }

  close(): void {
    closeSync(this.fd);
  }

  private recordAt(i: number): number {
    return HEADER_BYTES + i * RECORD_BYTES;
  }
}

/**
 * A reader's view of the index: the time of the line starting at an offset. Queries are
 * expected in increasing order (a log is read forward): each walks on from the last, and a jump
 * back costs one binary search on the file. `sync()` picks up what the keeper wrote since.
 */
export class LineTimes {
  private fd: number | undefined;
  private ino = 0;
  private count = 0;
  private readonly block = Buffer.alloc(BLOCK_RECORDS * RECORD_BYTES);
  private blockFirst = 0;
  private blockLen = 0;
  /** The record that answered last (-1: before the first record), and where the next starts. */
  private currentIndex = -1;
  private currentOffset = Infinity;
  private currentTime: number | undefined;
  private nextOffset = Infinity;

  constructor(private readonly logPath: string) {
    this.sync();
  }

  /** Milliseconds since the epoch, or undefined if the index knows no time for that line. */
  timeOf(offset: number): number | undefined {
    if (offset < this.currentOffset) this.seek(offset);
    while (offset >= this.nextOffset) this.moveTo(this.currentIndex + 1);
    return this.currentTime;
  }

  /** Picks up records appended since, or the file a rotation rewrote. */
  sync(): void {
    let ino: number;
    try {
      ino = statSync(indexPath(this.logPath)).ino;
    } catch {
      return; // removed with its container: what we hold is all there is
    }
    if (this.fd !== undefined && ino === this.ino) {
      const count = recordsIn(this.fd);
      if (count === this.count) return;
      this.count = count;
      this.nextOffset = this.record(this.currentIndex + 1)?.offset ?? Infinity;
      return;
    }
    this.close();
    try {
      this.fd = openSync(indexPath(this.logPath), "r");
    } catch {
      return;
    }
    this.ino = ino;
    this.count = recordsIn(this.fd);
    this.blockLen = 0;
    this.currentOffset = Infinity; // search again on the next query
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private seek(offset: number): void {
    this.moveTo(this.fd === undefined ? -1 : searchFile(this.fd, this.count, offset));
  }

  private moveTo(i: number): void {
    const r = i >= 0 ? this.record(i) : undefined;
    this.currentIndex = r ? i : -1;
    this.currentOffset = r ? r.offset : -Infinity;
    this.currentTime = r?.time;
    this.nextOffset = this.record(this.currentIndex + 1)?.offset ?? Infinity;
  }

  private record(i: number): LogRecord | undefined {
    if (this.fd === undefined || i < 0 || i >= this.count) return undefined;
    if (i < this.blockFirst || i >= this.blockFirst + this.blockLen) {
      const n = readSync(
        this.fd,
        this.block,
        0,
        this.block.length,
        HEADER_BYTES + i * RECORD_BYTES,
      );
      this.blockFirst = i;
      this.blockLen = Math.floor(n / RECORD_BYTES);
      if (this.blockLen === 0) return undefined;
    }
    return decodeRecord(this.block, (i - this.blockFirst) * RECORD_BYTES);
  }
}
