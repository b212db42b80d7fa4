// Small filesystem helpers for the store: crash-safe replacement of a file, and reads of
// untrusted files with a size cap decided before reading.
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ImageError } from "./errors.js";

/** Cap on any JSON document read from an archive or the store (manifests, configs, indexes). */
export const MAX_JSON_BYTES = 8 * 1024 * 1024;

/** fsync a directory so that a rename inside it survives a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `data` so that readers (and a crash) see the old or the new content,
 * never a torn file: write a temp file in `tempDir` (same filesystem; named
 * `<pid>-write-*` so that the store's cleanup of dead processes' files removes it after a
 * crash), fsync, rename over `path`, fsync the directory.
 */
export async function writeFileAtomic(
  path: string,
  data: Buffer | string,
  tempDir: string,
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

/** Reads a file, refusing it (without reading) when larger than `maxBytes`. */
export async function readFileCapped(
  path: string,
  maxBytes: number,
  what: string,
): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) {
      throw new ImageError(
        "refused",
        `${what} is ${size} bytes, more than the limit of ${maxBytes}`,
      );
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}
