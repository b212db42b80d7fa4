// Crash-safe replacement of a file: readers (and a crash at any point) see the old or the new
// content, never a torn file. Write a temp file on the same filesystem, fsync, rename over the
// target, fsync the directory. The one way the runtime writes state.
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { syncfs } from "../syscall/index.js";

/** fsync a directory so that a rename inside it survives a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Every file written under `path` (and the rest of its filesystem) durable: one syncfs(2). */
export async function syncFilesystemOf(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await syncfs(handle.fd);
  } finally {
    await handle.close();
  }
}

function syncDirSync(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * `tempDir` must be on the same filesystem as `path`; temp files are named `<pid>-write-*` so
 * that a cleanup of dead processes' files can find them after a crash.
 */
export async function writeFileAtomic(
  path: string,
  data: Buffer | string,
  tempDir = dirname(path),
): Promise<void> {
  const temp = join(tempDir, `${process.pid}-write-${randomBytes(8).toString("hex")}`);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

/** The same, synchronous: for state saved on paths where nothing else may interleave. */
/**
 * `durable: false` skips the fsyncs (a crash may lose the write, never tear it): for state that
 * is rebuilt from durable state at start, where two fsyncs (~5 ms here) would be wasted.
 */
export function writeFileAtomicSync(
  path: string,
  data: Buffer | string,
  mode = 0o600,
  { durable = true }: { durable?: boolean } = {},
): void {
  const temp = join(dirname(path), `${process.pid}-write-${randomBytes(8).toString("hex")}`);
  try {
    const fd = openSync(temp, "wx", mode);
    try {
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      // A write may store less than asked (a filesystem nearly full): go on until all is
      // written or one fails (ENOSPC), which keeps the old file.
      for (let done = 0; done < bytes.length;)
        done += writeSync(fd, bytes, done, bytes.length - done);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  if (durable) syncDirSync(dirname(path));
}
