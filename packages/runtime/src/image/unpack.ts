// Unpacks one image layer (a tar, plain or gzip) into a fresh directory, in the form
// overlayfs reads as a lower layer. The tar is hostile input: nothing may be written outside
// the directory, so every path is resolved lexically, every parent is lstat'ed (never
// followed), files are opened with O_NOFOLLOW|O_EXCL. Device nodes are made as Docker and
// containerd make them (a Debian rootfs carries /dev/console and friends): they are harmless
// where they lie, because the store's directories are 0700 root (no host user reaches them)
// and a container's device cgroup decides what it may open. The layer's diff_id (sha256 of the
// uncompressed tar) is computed on the way through.
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  constants as fsc,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type Stats,
} from "node:fs";
import { chmod, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract as tarExtract, type ExtractEvents, type Header } from "tar-stream";
import { S_IFBLK, S_IFCHR, SyscallError, lsetxattr, mknod } from "../syscall/index.js";
import { sniffCompression, type Compression } from "./compression.js";
import type { Digest } from "./digest.js";
import { ImageError, messageOf } from "./errors.js";
import { HashMeter } from "./meter.js";
import { TarSplitRecorder, tarSplitErrorPath } from "./tar-split.js";
import { memberComponents } from "./paths.js";
import { xattrKept } from "./xattrs.js";

/**
 * Default cap on a layer's uncompressed tar size: 16 GiB. Larger than any sane layer, small
 * enough that a gzip bomb (gigabytes out of kilobytes) stops long before it fills the disk.
 */
export const DEFAULT_MAX_LAYER_BYTES = 16 * 1024 ** 3;

/**
 * Output chunk of the gunzip step. With zlib's default (16 KiB), inflating a 60 MB layer took
 * about twice as long, in per-chunk overhead; bigger chunks also mean fewer writes.
 */
const GUNZIP_CHUNK = 256 * 1024;
const S_IFIFO = 0o010000; // <sys/stat.h>; only the layer unpacker makes fifos
/** One tar member as tar-stream yields it: a readable of its content plus its header. */
type Entry = ExtractEvents["entry"][1];
/** tar-stream types `type` and `linkname` as always set; hostile tars leave them null. */
type Headers = Omit<Header, "type" | "linkname"> & {
  type: Header["type"] | null;
  linkname: string | null;
};

const WHITEOUT_PREFIX = ".wh.";
const WHITEOUT_META_PREFIX = ".wh..wh.";
const WHITEOUT_OPAQUE = ".wh..wh..opq";
const OPAQUE_XATTR = "trusted.overlay.opaque";

export interface UnpackOptions {
  /** Cap on the uncompressed tar, in bytes (default DEFAULT_MAX_LAYER_BYTES). */
  maxBytes?: number;
  /** Called every few MiB with the uncompressed bytes read so far. */
  onBytes?: (bytes: number) => void;
  /** Where to record the tar's tar-split (see tar-split.ts), to rebuild the exact tar later. */
  tarSplitPath?: string;
  /** Told of each entry left out (a device node where mknod is not allowed), for the log. */
  onNote?: (note: string) => void;
}

export interface UnpackResult {
  /** sha256 of the uncompressed tar: what an image config lists in rootfs.diff_ids */
  diffId: Digest;
  /** bytes of regular file content written (what `docker images` reports as size) */
  size: number;
  /** length of the uncompressed tar */
  tarSize: number;
  /** sha256 and length of the input as given (the blob, compressed or not) */
  blobDigest: Digest;
  blobSize: number;
  compression: Compression;
}

/**
 * Unpacks the layer tar read from `input` into `dir`, which must not exist yet (its parent
 * must). On any failure `dir` is removed and an ImageError says which entry and why.
 */
export async function unpackLayer(
  input: AsyncIterable<unknown>,
  dir: string,
  options: UnpackOptions = {},
): Promise<UnpackResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_LAYER_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new ImageError("invalid", `maxBytes must be a positive integer, got ${maxBytes}`);
  }
  await mkdir(dir);
  // Explicit, not via mkdir's mode: the umask must not decide who can traverse "/".
  await chmod(dir, 0o755);
  try {
    const { compression, source } = await sniffCompression(input, "layer");
    const blob = new HashMeter(Number.MAX_SAFE_INTEGER, "layer blob");
    const tar = new HashMeter(maxBytes, "uncompressed layer", options.onBytes);
    const extract = tarExtract();
    // Always there, also without a record to write: it reads the xattrs' raw bytes.
    const split = new TarSplitRecorder(options.tarSplitPath);
    const feeding =
      compression === "gzip"
        ? pipeline(source, blob, createGunzip({ chunkSize: GUNZIP_CHUNK }), tar, split, extract)
        : pipeline(source, blob, tar, split, extract);
    let feedError: unknown;
    const fed = feeding.catch((err: unknown) => {
      feedError = err;
    });
    const writer = new LayerWriter(dir, split, options.onNote ?? (() => undefined));
    try {
      for await (const entry of extract) await writer.write(entry);
    } catch (err) {
      // A stopped pipeline shows up here as a secondary error; report its cause.
      await fed;
      throw tar.limitError ?? (err instanceof ImageError ? err : (feedError ?? err));
    }
    await fed;
    if (feedError !== undefined) throw tar.limitError ?? feedError;
    await writer.finish();
    return {
      diffId: tar.digest(),
      size: writer.size,
      tarSize: tar.bytes,
      blobDigest: blob.digest(),
      blobSize: blob.bytes,
      compression,
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if (options.tarSplitPath !== undefined) {
      await rm(options.tarSplitPath, { force: true });
      await rm(tarSplitErrorPath(options.tarSplitPath), { force: true });
    }
    if (err instanceof ImageError) throw err;
    throw new ImageError("refused", `unpack layer: ${messageOf(err)}`);
  }
}

// The writer below calls the file system synchronously. Each call is short (one inode, one
// chunk of content), so the event loop is held for microseconds at a time, while awaiting a
// round trip through libuv's thread pool for each call made unpacking a layer of thousands of
// small files about 1.6x slower (packages/runtime/bench/pull.ts, bench/results/pull.md).
function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

async function drain(entry: Entry): Promise<void> {
  for await (const _chunk of entry) {
    // discard: the entry's content is not written anywhere
  }
}

/** Writes tar entries under `root`, one at a time, in archive order. */
class LayerWriter {
  size = 0;
  /** Directories known to be real directories (not symlinks) created or checked by us. */
  private readonly safeDirs = new Set<string>();
  /** Whiteout devices this layer made, by path. */
  private readonly whiteouts = new Set<string>();
  /** Directory mtimes, applied last: writing into a directory changes its mtime. */
  private readonly dirTimes = new Map<string, Date>();

  /** Number of the entry being written, counting from 0 (for TarSplitRecorder.takeXattrs). */
  private index = 0;

  constructor(
    private readonly root: string,
    private readonly scanner: TarSplitRecorder,
    private readonly note: (note: string) => void,
  ) {
    this.safeDirs.add(root);
  }

  async write(entry: Entry): Promise<void> {
    const header = entry.header;
    const name = header.name;
    const index = this.index++;
    try {
      const xattrs = this.scanner.takeXattrs(index, name);
      const path = await this.writeEntry(entry, header);
      if (path !== undefined && xattrs.length > 0) this.applyXattrs(path, name, xattrs);
    } catch (err) {
      const shown = JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}...` : name);
      if (err instanceof ImageError) {
        throw new ImageError(err.code, `refusing layer entry ${shown}: ${err.message}`);
      }
      throw new ImageError("refused", `layer entry ${shown}: ${messageOf(err)}`);
    }
  }

  async finish(): Promise<void> {
    for (const [path, mtime] of this.dirTimes) lutimesSync(path, mtime, mtime);
  }

  /** Writes one entry; returns the path it made, if any (whiteouts and left-out nodes none). */
  private async writeEntry(entry: Entry, header: Headers): Promise<string | undefined> {
    const components = memberComponents(header.name, "path");
    const type = header.type ?? "file";
    if (components.length === 0) {
      // The layer's own root ("./" or "/"): only its metadata applies.
      if (type !== "directory")
        throw new ImageError("refused", "the layer root must be a directory");
      await drain(entry);
      await this.setMetadata(this.root, header, true);
      return this.root;
    }
    const base = components[components.length - 1] ?? "";
    const parent = await this.ensureParents(components);
    const path = join(parent, base);

    if (base.startsWith(WHITEOUT_PREFIX)) {
      await drain(entry);
      await this.whiteout(parent, base);
      return undefined;
    }

    switch (type) {
      case "directory": {
        await drain(entry);
        // A whiteout of this name earlier in the layer hid the lower layers' directory:
        // this layer's directory replaces it, so it must not merge with them.
        const replacesWhiteout = this.whiteouts.has(path);
        const kept = await this.removeExisting(path, true);
        if (!kept) mkdirSync(path, { mode: 0o700 });
        this.safeDirs.add(path);
        if (replacesWhiteout) lsetxattr(path, OPAQUE_XATTR, Buffer.from("y"));
        await this.setMetadata(path, header, true);
        return path;
      }
      case "file":
      case "contiguous-file":
        await this.removeExisting(path, false);
        await this.writeFile(entry, header, path);
        return path;
      case "symlink": {
        await drain(entry);
        // The target is stored as text and never resolved here: any target is allowed.
        const target = header.linkname ?? "";
        if (target === "") throw new ImageError("refused", "symlink has an empty target");
        await this.removeExisting(path, false);
        symlinkSync(target, path);
        await this.setMetadata(path, header, false);
        return path;
      }
      case "link":
        await drain(entry);
        await this.hardLink(header, path);
        return path;
      case "fifo":
        await drain(entry);
        await this.removeExisting(path, false);
        mknod(path, S_IFIFO | 0o600, 0, 0);
        await this.setMetadata(path, header, false);
        return path;
      case "character-device":
      case "block-device":
        await drain(entry);
        await this.removeExisting(path, false);
        return this.deviceNode(header, path, type === "block-device" ? S_IFBLK : S_IFCHR);
      default:
        throw new ImageError("refused", `unsupported tar entry type ${String(header.type)}`);
    }
  }

  /** Makes sure every parent of the entry is a real directory; returns the parent's path. */
  private async ensureParents(components: readonly string[]): Promise<string> {
    let current = this.root;
    for (let i = 0; i < components.length - 1; i++) {
      current = join(current, components[i] ?? "");
      if (this.safeDirs.has(current)) continue;
      const shown = components.slice(0, i + 1).join("/");
      const st = lstatOrUndefined(current);
      if (st === undefined) {
        // Parents the tar does not list get Docker's default, whatever the umask.
        mkdirSync(current);
        chmodSync(current, 0o755);
      } else if (st.isSymbolicLink()) {
        throw new ImageError("refused", `its parent "${shown}" is a symlink`);
      } else if (!st.isDirectory()) {
        throw new ImageError("refused", `its parent "${shown}" is not a directory`);
      }
      this.safeDirs.add(current);
    }
    return current;
  }

  /**
   * Clears the way for a new entry at `path`. An existing directory is kept when the new
   * entry is a directory too (tars list a directory once per layer, metadata may change);
   * anything else is removed, without following symlinks. Returns whether a dir was kept.
   */
  private async removeExisting(path: string, keepDirectory: boolean): Promise<boolean> {
    const st = lstatOrUndefined(path);
    if (st === undefined) return false;
    if (st.isDirectory()) {
      if (keepDirectory) return true;
      await rm(path, { recursive: true, force: true });
    } else {
      unlinkSync(path);
    }
    this.forget(path);
    return false;
  }

  private forget(path: string): void {
    const prefix = `${path}/`;
    for (const dir of this.safeDirs) {
      if (dir === path || dir.startsWith(prefix)) this.safeDirs.delete(dir);
    }
    for (const dir of this.dirTimes.keys()) {
      if (dir === path || dir.startsWith(prefix)) this.dirTimes.delete(dir);
    }
    for (const whiteout of this.whiteouts) {
      if (whiteout === path || whiteout.startsWith(prefix)) this.whiteouts.delete(whiteout);
    }
  }

  private async writeFile(entry: Entry, header: Headers, path: string): Promise<void> {
    const flags = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;
    const fd = openSync(path, flags, 0o600);
    try {
      let written = 0;
      for await (const chunk of entry) {
        const buffer = chunk as Buffer;
        let at = 0;
        while (at < buffer.length) at += writeSync(fd, buffer, at);
        written += buffer.length;
      }
      this.size += written;
      // chown before chmod: chown clears setuid/setgid bits.
      fchownSync(fd, header.uid ?? 0, header.gid ?? 0);
      fchmodSync(fd, (header.mode ?? 0o644) & 0o7777);
      const mtime = header.mtime ?? new Date(0);
      futimesSync(fd, mtime, mtime);
    } finally {
      closeSync(fd);
    }
  }

  private async hardLink(header: Headers, path: string): Promise<void> {
    const linkname = header.linkname ?? "";
    if (linkname === "") throw new ImageError("refused", "hard link has an empty target");
    const target = memberComponents(linkname, "hard link target");
    const targetPath = join(this.root, ...target);
    if (target.length === 0 || targetPath === path) {
      throw new ImageError("refused", `hard link target "${linkname}" is not a file in the layer`);
    }
    // The target must already be in this layer, reached through real directories only.
    let current = this.root;
    for (const component of target.slice(0, -1)) {
      current = join(current, component);
      const st = lstatOrUndefined(current);
      if (st === undefined || !st.isDirectory()) {
        throw new ImageError(
          "refused",
          `hard link target "${linkname}" does not exist in the layer`,
        );
      }
    }
    const st = lstatOrUndefined(targetPath);
    if (st === undefined) {
      throw new ImageError("refused", `hard link target "${linkname}" does not exist in the layer`);
    }
    if (st.isDirectory()) {
      throw new ImageError("refused", `hard link target "${linkname}" is a directory`);
    }
    await this.removeExisting(path, false);
    // link(2) does not follow a symlink target: it links the symlink itself.
    linkSync(targetPath, path);
  }

  /**
   * A device node as the tar describes it. Where mknod is not allowed (no CAP_MKNOD, as in a
   * user namespace) the node is left out with a note, as containerd does: the image still runs,
   * and the container's /dev is a fresh tmpfs anyway.
   */
  private async deviceNode(
    header: Headers,
    path: string,
    kind: number,
  ): Promise<string | undefined> {
    const major = header.devmajor ?? 0;
    const minor = header.devminor ?? 0;
    if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor) || major < 0 || minor < 0) {
      throw new ImageError("refused", `invalid device number ${major}:${minor}`);
    }
    try {
      mknod(path, kind | 0o600, major, minor);
    } catch (err) {
      if (err instanceof SyscallError && err.code === "EPERM") {
        const kindName = kind === S_IFBLK ? "block" : "character";
        const shown = JSON.stringify(header.name);
        this.note(
          `layer entry ${shown}: ${kindName} device ${major}:${minor} left out (mknod: ${err.code})`,
        );
        return undefined;
      }
      throw err;
    }
    await this.setMetadata(path, header, false);
    return path;
  }

  /**
   * Sets the entry's xattrs (after its owner and mode: chown clears security.capability),
   * those xattrKept() allows; the others are left out with a note. EPERM/ENOTSUP (a symlink's user.*, a file system without xattrs) is a note, as in Docker.
   */
  private applyXattrs(path: string, name: string, xattrs: Array<[string, Buffer]>): void {
    const shown = JSON.stringify(name);
    for (const [key, value] of xattrs) {
      if (!xattrKept(key)) {
        this.note(`layer entry ${shown}: xattr ${key} left out`);
        continue;
      }
      try {
        lsetxattr(path, key, value);
      } catch (err) {
        if (err instanceof SyscallError && (err.code === "EPERM" || err.code === "ENOTSUP")) {
          this.note(`layer entry ${shown}: xattr ${key} left out (${err.message})`);
          continue;
        }
        throw err;
      }
    }
  }

  /** OCI whiteouts become what overlayfs understands (as Docker's overlay2 driver does). */
  private async whiteout(parent: string, base: string): Promise<void> {
    if (base === WHITEOUT_OPAQUE) {
      lsetxattr(parent, OPAQUE_XATTR, Buffer.from("y"));
      return;
    }
    // Other .wh..wh. names are AUFS bookkeeping (e.g. .wh..wh.plnk); Docker skips them too.
    if (base.startsWith(WHITEOUT_META_PREFIX)) return;
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === "" || name === "." || name === "..") {
      throw new ImageError("refused", "invalid whiteout name");
    }
    const path = join(parent, name);
    // A whiteout hides lower layers only (OCI image spec): an entry of this same layer stays.
    // A directory here then must not merge with lower ones: it becomes opaque. Anything
    // else already hides what is below it.
    const existing = lstatOrUndefined(path);
    if (existing?.isDirectory()) {
      lsetxattr(path, OPAQUE_XATTR, Buffer.from("y"));
      return;
    }
    if (existing !== undefined) return;
    mknod(path, S_IFCHR, 0, 0);
    this.whiteouts.add(path);
  }

  private async setMetadata(path: string, header: Headers, isDirectory: boolean): Promise<void> {
    lchownSync(path, header.uid ?? 0, header.gid ?? 0);
    const mtime = header.mtime ?? new Date(0);
    if (isDirectory) {
      chmodSync(path, (header.mode ?? 0o755) & 0o7777);
      this.dirTimes.set(path, mtime);
      return;
    }
    if (header.type !== "symlink") chmodSync(path, (header.mode ?? 0o644) & 0o7777);
    lutimesSync(path, mtime, mtime);
  }
}
