// Rebuilding a layer's tar byte for byte after it was unpacked, as Docker does for `docker save`
// and `docker push`: while a layer is unpacked, everything in its tar except the content of
// regular files is recorded (headers, PAX and GNU long-name records, padding, the end blocks),
// with each file's content replaced by a reference to the file by name. Later the tar is
// assembled again from this record and the unpacked files, and its sha256 is the diff_id.
//
// The idea and the record's format are vbatts/tar-split's (what Docker and containers/storage
// keep per layer as tar-split.json.gz): gzip'd JSON lines, {"type":2,"payload":"<base64>"} for
// raw bytes and {"type":1,"name":"<path>","size":N} for a file's content. No JavaScript
// implementation exists, so it is written here. The scanner follows tar-stream's parser (the one
// the unpacker uses) rule for rule, so that a name here is the name the unpacker wrote.
import { constants as fsc, createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { lstat, open, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Transform, type TransformCallback } from "node:stream";
import { finished } from "node:stream/promises";
import { createGunzip, createGzip, type Gzip } from "node:zlib";
import { ImageError, messageOf } from "./errors.js";
import { memberComponents } from "./paths.js";

/** Name of the record beside a stored layer's `fs/` directory. */
export const TAR_SPLIT_FILE = "tar-split.json.gz";

/**
 * Where a recorder that gave up says why, in place of the record at `splitPath`: the layer is
 * kept (its tar unpacked fine), and a later save or push can tell this from a layer stored
 * without a record by an older Corral.
 */
export function tarSplitErrorPath(splitPath: string): string {
  return `${splitPath}.error`;
}

const BLOCK = 512;
/** tar-stream's limit on a PAX or GNU long-name record. */
const MAX_LONG_HEADER = 4 * 1024 * 1024;
/** Raw bytes are written out in records of at most this size. */
const SEGMENT_BYTES = 64 * 1024;
const FILE_ENTRY = 1;
const SEGMENT_ENTRY = 2;

// tar-stream's type numbers: typeflag byte minus '0' ('\0' is 0).
const T_FILE = 0;
const T_DIRECTORY = 5;
const T_CONTIGUOUS = 7;
const T_PAX = 72; // 'x'
const T_PAX_GLOBAL = 55; // 'g'
const T_GNU_LONG_LINK = 27; // 'K'
const T_GNU_LONG_PATHS = new Set([28, 30]); // 'L', 'N'
const LONG_TYPES = new Set([T_PAX, T_PAX_GLOBAL, T_GNU_LONG_LINK, ...T_GNU_LONG_PATHS]);
/** Types whose content the unpacker writes to a file ("null" = unknown, written as a file). */
const KNOWN_TYPES = new Set([0, 1, 2, 3, 4, 5, 6, 7, 72, 55, 27, 28, 30]);

function overflow(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}

function decodeStr(buf: Buffer, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && buf[end] !== 0) end++;
  return buf.toString("utf8", offset, end);
}

/** tar-stream's decodeOct: octal with optional spaces/NULs, or base-256 when the top bit is set. */
function decodeNumber(buf: Buffer, offset: number, length: number): number {
  const field = buf.subarray(offset, offset + length);
  if ((field[0] ?? 0) & 0x80) {
    const positive = field[0] === 0x80;
    if (!positive && field[0] !== 0xff) return NaN;
    let sum = 0;
    for (let i = field.length - 1, scale = 1; i > 0; i--, scale *= 256) {
      const byte = field[i] ?? 0;
      sum += (positive ? byte : 0xff - byte) * scale;
    }
    return positive ? sum : -sum;
  }
  let start = 0;
  while (start < field.length && field[start] === 32) start++;
  let end = field.indexOf(32, start);
  if (end === -1) end = field.length;
  while (start < end && field[start] === 0) start++;
  if (start === end) return 0;
  return parseInt(field.toString("latin1", start, end), 8);
}

function checksumIsEmpty(block: Buffer): boolean {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += block[i] ?? 0;
  for (let i = 156; i < BLOCK; i++) sum += block[i] ?? 0;
  return sum === 8 * 32;
}

/** Prefix of the PAX records that carry a file's extended attributes (GNU tar, Go, Docker). */
const PAX_XATTR = "SCHILY.xattr.";

/**
 * The extended attributes in a PAX record, values as raw bytes: tar-stream decodes PAX values
 * as UTF-8, which mangles binary ones such as security.capability.
 */
function decodePaxXattrs(buf: Buffer): Array<[string, Buffer]> {
  const found: Array<[string, Buffer]> = [];
  let rest = buf;
  while (rest.length > 0) {
    let i = 0;
    while (i < rest.length && rest[i] !== 32) i++;
    const len = parseInt(rest.toString("utf8", 0, i), 10);
    if (!len || len > rest.length) return found;
    const record = rest.subarray(i + 1, len - 1);
    const eq = record.indexOf(0x3d); // "="
    if (eq === -1) return found;
    const key = record.toString("utf8", 0, eq);
    if (key.startsWith(PAX_XATTR)) {
      found.push([key.slice(PAX_XATTR.length), Buffer.from(record.subarray(eq + 1))]);
    }
    rest = rest.subarray(len);
  }
  return found;
}

/** The xattrs of the `index`th entry of a tar (counting from 0), named `name`. */
export interface EntryXattrs {
  index: number;
  name: string;
  xattrs: Array<[string, Buffer]>;
}

function decodePax(buf: Buffer): Record<string, string> {
  const result: Record<string, string> = {};
  let rest = buf;
  while (rest.length > 0) {
    let i = 0;
    while (i < rest.length && rest[i] !== 32) i++;
    const len = parseInt(rest.toString("utf8", 0, i), 10);
    if (!len) return result;
    const record = rest.toString("utf8", i + 1, len - 1);
    const eq = record.indexOf("=");
    if (eq === -1) return result;
    result[record.slice(0, eq)] = record.slice(eq + 1);
    rest = rest.subarray(len);
  }
  return result;
}

type Step =
  | { kind: "header" }
  /** a PAX or GNU long-name record: collected, recorded raw, and applied to the next header */
  | { kind: "long"; type: number; size: number }
  /** a regular file's content: left out of the record */
  | { kind: "content"; remaining: number; padding: number }
  /** bytes recorded as they are: padding, content the unpacker does not keep as a file */
  | { kind: "raw"; remaining: number; padding: number };

/**
 * A pass-through for the uncompressed layer tar that writes its tar-split record to `path`
 * (none without a path). The record is complete once the stream has finished. A tar the
 * scanner does not follow (the unpacker then fails too, normally) leaves no record rather than
 * a wrong one. On the way it also collects each entry's xattrs as raw bytes (takeXattrs).
 */
export class TarSplitRecorder extends Transform {
  private readonly gzip: Gzip | undefined;
  private readonly file: WriteStream | undefined;
  private readonly written: Promise<void>;
  /** entries seen so far; the next header is entry number `entries` */
  private entries = 0;
  private paxXattrs: Array<[string, Buffer]> | undefined;
  /** xattrs of entries the scanner has passed and the unpacker has not taken yet */
  private readonly xattrQueue: EntryXattrs[] = [];
  private step: Step = { kind: "header" };
  private collected: Buffer[] = [];
  private collectedBytes = 0;
  private raw: Buffer[] = [];
  private rawBytes = 0;
  private pax: Record<string, string> | undefined;
  private paxGlobal: Record<string, string> | undefined;
  private gnuLongPath: string | undefined;
  /** why the record is unusable, once it is */
  private broken: string | undefined;

  constructor(private readonly path: string | undefined) {
    super();
    if (path === undefined) {
      this.written = Promise.resolve();
      return;
    }
    this.gzip = createGzip();
    this.file = createWriteStream(path, { flags: "wx", mode: 0o600 });
    this.gzip.pipe(this.file);
    this.written = finished(this.file);
    this.written.catch(() => undefined);
  }

  /**
   * The xattrs (raw values) of entry number `index`, which the unpacker got from tar-stream
   * as `name`; none when it has no SCHILY.xattr records. The scanner runs ahead of tar-stream
   * on the same bytes, so it has always seen the entry already.
   */
  takeXattrs(index: number, name: string): Array<[string, Buffer]> {
    while (this.xattrQueue.length > 0 && (this.xattrQueue[0]?.index ?? 0) < index) {
      this.xattrQueue.shift();
    }
    const head = this.xattrQueue[0];
    if (head === undefined || head.index !== index) return [];
    this.xattrQueue.shift();
    if (head.name !== name) {
      throw new ImageError(
        "refused",
        `the tar's PAX records are out of step (${JSON.stringify(head.name)} is not the entry)`,
      );
    }
    return head.xattrs;
  }

  /** Why the scanner gave up on this tar (once finished: no record, a note instead). */
  get brokenReason(): string | undefined {
    return this.broken;
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!Buffer.isBuffer(chunk)) {
      done(new TypeError("tar-split: expected a byte stream"));
      return;
    }
    if (this.broken === undefined) {
      try {
        this.scan(chunk);
      } catch (err) {
        this.broken = messageOf(err);
      }
    }
    this.push(chunk);
    if (this.gzip?.writableNeedDrain) this.gzip.once("drain", () => done());
    else done();
  }

  override _flush(done: TransformCallback): void {
    if (this.collectedBytes > 0) this.addRaw(Buffer.concat(this.collected));
    this.flushRaw();
    this.gzip?.end();
    this.written
      .then(async () => {
        if (this.broken === undefined || this.path === undefined) return;
        await rm(this.path, { force: true });
        await writeFile(tarSplitErrorPath(this.path), `${this.broken}\n`, { mode: 0o600 });
      })
      .then(
        () => done(),
        (err: unknown) => done(err as Error),
      );
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    // The file stream too: a destroyed gzip does not end what it is piped to, and the file's
    // descriptor would stay open for good (one per failed unpack).
    this.gzip?.destroy();
    this.file?.destroy();
    if (this.file === undefined || this.file.closed) done(err);
    else this.file.once("close", () => done(err));
  }

  private scan(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const step = this.step;
      const available = chunk.length - at;
      if (step.kind === "content" || step.kind === "raw") {
        const n = Math.min(step.remaining, available);
        if (step.kind === "raw") this.addRaw(chunk.subarray(at, at + n));
        step.remaining -= n;
        at += n;
        if (step.remaining === 0) this.step = this.paddingOr(step.padding);
        continue;
      }
      const need = (step.kind === "header" ? BLOCK : step.size) - this.collectedBytes;
      const n = Math.min(need, available);
      this.collected.push(chunk.subarray(at, at + n));
      this.collectedBytes += n;
      at += n;
      if (n < need) continue;
      const data = Buffer.concat(this.collected);
      this.collected = [];
      this.collectedBytes = 0;
      this.addRaw(data);
      if (step.kind === "header") this.header(data);
      else this.longHeader(step.type, data);
    }
  }

  private paddingOr(padding: number): Step {
    return padding > 0 ? { kind: "raw", remaining: padding, padding: 0 } : { kind: "header" };
  }

  private header(block: Buffer): void {
    if (checksumIsEmpty(block)) return; // an end-of-archive block: tar-stream reads on
    let type = block[156] === 0 ? 0 : (block[156] ?? 0) - 48;
    let name = decodeStr(block, 0, 100);
    let size = decodeNumber(block, 124, 12);
    if (block.toString("latin1", 257, 263) === "ustar\0" && block[345] !== 0) {
      name = `${decodeStr(block, 345, 155)}/${name}`;
    }
    if (type === T_FILE && name.endsWith("/")) type = T_DIRECTORY;

    if (LONG_TYPES.has(type)) {
      if (!(size >= 0) || size > MAX_LONG_HEADER) throw new Error("a long header is too large");
      if (size === 0) this.longHeader(type, Buffer.alloc(0));
      else this.step = { kind: "long", type, size };
      return;
    }
    if (this.gnuLongPath !== undefined) name = this.gnuLongPath;
    this.gnuLongPath = undefined;
    if (this.pax !== undefined) {
      if (this.pax.path) name = this.pax.path;
      if (this.pax.size) size = parseInt(this.pax.size, 10);
      this.pax = undefined;
    }
    const index = this.entries++;
    if (this.paxXattrs !== undefined && this.paxXattrs.length > 0) {
      this.xattrQueue.push({ index, name, xattrs: this.paxXattrs });
    }
    this.paxXattrs = undefined;
    if (!(size >= 0)) throw new Error(`entry ${JSON.stringify(name)} has an invalid size`);
    // tar-stream reads no content for directories, whatever their size says.
    if (size === 0 || type === T_DIRECTORY) return;

    const base = name.split("/").pop() ?? "";
    const isFile = type === T_FILE || type === T_CONTIGUOUS || !KNOWN_TYPES.has(type);
    if (isFile && !base.startsWith(".wh.")) {
      this.flushRaw();
      this.writeLine({ type: FILE_ENTRY, name, size });
      this.step = { kind: "content", remaining: size, padding: overflow(size) };
    } else {
      this.step = { kind: "raw", remaining: size, padding: overflow(size) };
    }
  }

  private longHeader(type: number, data: Buffer): void {
    if (type === T_PAX_GLOBAL) this.paxGlobal = decodePax(data);
    else if (type === T_PAX) {
      this.pax = { ...this.paxGlobal, ...decodePax(data) };
      this.paxXattrs = decodePaxXattrs(data);
    } else if (T_GNU_LONG_PATHS.has(type)) this.gnuLongPath = decodeStr(data, 0, data.length);
    this.step = this.paddingOr(overflow(data.length));
  }

  private addRaw(bytes: Buffer): void {
    if (bytes.length === 0 || this.gzip === undefined) return;
    this.raw.push(Buffer.from(bytes));
    this.rawBytes += bytes.length;
    if (this.rawBytes >= SEGMENT_BYTES) this.flushRaw();
  }

  private flushRaw(): void {
    if (this.rawBytes === 0) return;
    this.writeLine({ type: SEGMENT_ENTRY, payload: Buffer.concat(this.raw).toString("base64") });
    this.raw = [];
    this.rawBytes = 0;
  }

  private writeLine(entry: object): void {
    this.gzip?.write(JSON.stringify(entry) + "\n");
  }
}

interface SplitEntry {
  type: number;
  payload?: unknown;
  name?: unknown;
  size?: unknown;
}

/**
 * The layer's tar again, from its tar-split record at `splitPath` and its unpacked files under
 * `root`. Callers check the result's sha256 against the diff_id: a file changed since it was
 * unpacked changes the tar, and a size that no longer matches fails here already.
 */
export async function* assembleTar(splitPath: string, root: string): AsyncGenerator<Buffer> {
  const lines = createInterface({
    input: createReadStream(splitPath).pipe(createGunzip()),
    crlfDelay: Infinity,
  });
  const realDirs = new Set<string>([root]);
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line === "") continue;
    let entry: SplitEntry;
    try {
      entry = JSON.parse(line) as SplitEntry;
    } catch (err) {
      throw new ImageError("refused", `${splitPath} line ${n}: ${messageOf(err)}`);
    }
    if (entry.type === SEGMENT_ENTRY && typeof entry.payload === "string") {
      yield Buffer.from(entry.payload, "base64");
    } else if (
      entry.type === FILE_ENTRY &&
      typeof entry.name === "string" &&
      Number.isSafeInteger(entry.size)
    ) {
      yield* fileContent(root, entry.name, entry.size as number, realDirs);
    } else {
      throw new ImageError("refused", `${splitPath} line ${n}: not a tar-split entry`);
    }
  }
}

/**
 * The content of the layer file `name`, read without leaving the layer: a later entry of the
 * layer may have replaced a parent directory by a symlink (allowed, as in Docker: the directory
 * and what it held are gone) or the file by a fifo. Every parent is lstat'ed, as the unpacker
 * checks them (`realDirs` remembers those found to be directories), and only a regular file of
 * the recorded size is read; O_NONBLOCK keeps open() of a fifo from waiting for a writer forever.
 * The layer's files do not change while this runs (only the unpacker writes them), so checking
 * then opening is not a race.
 */
async function* fileContent(
  root: string,
  name: string,
  size: number,
  realDirs: Set<string>,
): AsyncGenerator<Buffer> {
  const shown = JSON.stringify(name);
  const components = memberComponents(name, "tar-split entry");
  let path = root;
  for (const [i, component] of components.entries()) {
    path = join(path, component);
    if (i === components.length - 1 || realDirs.has(path)) continue;
    const st = await lstat(path).catch(() => undefined);
    if (st === undefined || !st.isDirectory()) {
      const parent = JSON.stringify(components.slice(0, i + 1).join("/"));
      const what =
        st === undefined
          ? "is missing"
          : st.isSymbolicLink()
            ? "is a symlink"
            : "is not a directory";
      throw new ImageError(
        "refused",
        `layer file ${shown}: its parent ${parent} ${what}, so the layer's tar cannot be rebuilt from its files`,
      );
    }
    realDirs.add(path);
  }
  const flags = fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK;
  const handle = await open(path, flags).catch((err: unknown) => {
    throw new ImageError("not-found", `layer file ${shown}: ${messageOf(err)}`);
  });
  const changed = (now: number): ImageError =>
    new ImageError(
      "refused",
      `layer file ${shown} is ${now} bytes, the layer's tar had ${size}: it changed since it was unpacked`,
    );
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      throw new ImageError(
        "refused",
        `layer file ${shown} is not a regular file, so the layer's tar cannot be rebuilt from its files`,
      );
    }
    if (st.size !== size) throw changed(st.size);
    let left = size;
    while (left > 0) {
      const buffer = Buffer.allocUnsafe(Math.min(left, 1 << 20));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      left -= bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
    const { size: now } = await handle.stat();
    if (left !== 0 || now !== size) throw changed(now);
  } finally {
    await handle.close();
  }
}
