// Docker's rule for volumes: a volume mounted over a directory that holds files in the image
// starts with a copy of them (databases' and web servers' images rely on it), when the volume
// is empty at the container's first start. Owners, modes, times, xattrs (file capabilities)
// and hard links are kept, and the volume's root takes the directory's owner and mode, as
// moby's copyExistingContents does. Node's fs.cp keeps none of owners, xattrs or hard links,
// so the walk is written here. Runs in the init, before the volume is mounted over the image.
import {
  chmodSync,
  closeSync,
  constants as fsc,
  fstatSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeSync,
  readSync,
  statSync,
  type Stats,
} from "node:fs";
import { join } from "node:path";
import { S_IFBLK, S_IFCHR, lgetxattr, llistxattr, lsetxattr, mknod } from "../syscall/index.js";
import { xattrKept } from "../image/xattrs.js";

/**
 * Copies what the image holds at `from` (a directory) into the volume directory `to`, if `to`
 * is empty; returns whether it copied. Nothing under `from` is followed if a symlink; `from`
 * itself may be (a /proc/self/fd/N of the pinned target).
 */
export function copyUpIfEmpty(from: string, to: string): boolean {
  const source = statSync(from);
  if (!source.isDirectory() || readdirSync(to).length > 0) return false;
  if (readdirSync(from).length === 0) return false;
  const links = new Map<string, string>();
  copyChildren(from, to, links);
  setMetadata(from, to, source);
  return true;
}

function copyChildren(from: string, to: string, links: Map<string, string>): void {
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const st = lstatSync(src);
    if (st.isDirectory()) {
      mkdirSync(dst, { mode: 0o700 });
      copyChildren(src, dst, links);
      setMetadata(src, dst, st);
      continue;
    }
    const key = `${st.dev}:${st.ino}`;
    const linked = st.nlink > 1 ? links.get(key) : undefined;
    if (linked !== undefined) {
      linkSync(linked, dst);
      continue;
    }
    if (st.isFile()) copyFile(src, dst);
    else if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const kind = st.isBlockDevice() ? S_IFBLK : S_IFCHR;
      // glibc's major()/minor() of a dev_t
      const major = ((st.rdev >>> 8) & 0xfff) | (Math.floor(st.rdev / 2 ** 32) & ~0xfff);
      const minor = (st.rdev & 0xff) | (Math.floor(st.rdev / 4096) & ~0xff);
      mknod(dst, kind | 0o600, major, minor);
    } else if (st.isFIFO()) mknod(dst, 0o010000 | 0o600, 0, 0);
    else continue; // sockets: nothing to copy
    if (st.nlink > 1) links.set(key, dst);
    setMetadata(src, dst, st);
  }
}

function copyFile(src: string, dst: string): void {
  // O_NOFOLLOW on both ends: neither side may be swapped for a symlink under us.
  const input = openSync(src, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  try {
    if (!fstatSync(input).isFile()) throw new Error(`${src} changed while copied`);
    const output = openSync(dst, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    try {
      const buffer = Buffer.allocUnsafe(1 << 20);
      for (let n = readSync(input, buffer); n > 0; n = readSync(input, buffer)) {
        for (let at = 0; at < n;) at += writeSync(output, buffer, at, n - at);
      }
    } finally {
      closeSync(output);
    }
  } finally {
    closeSync(input);
  }
}

/** Owner, then mode (chown clears setuid bits), then xattrs (chown clears capabilities), times. */
function setMetadata(src: string, dst: string, st: Stats): void {
  lchownSync(dst, st.uid, st.gid);
  if (!st.isSymbolicLink()) chmodSync(dst, st.mode & 0o7777);
  for (const name of llistxattr(src)) {
    if (!xattrKept(name)) continue;
    const value = lgetxattr(src, name);
    if (value !== undefined) lsetxattr(dst, name, value);
  }
  lutimesSync(dst, st.atime, st.mtime);
}
