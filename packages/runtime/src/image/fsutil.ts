// Small filesystem helpers for the store: reads of untrusted files with a size cap decided
// before reading.
import { open } from "node:fs/promises";
import { ImageError } from "./errors.js";

/** Cap on any JSON document read from an archive or the store (manifests, configs, indexes). */
export const MAX_JSON_BYTES = 8 * 1024 * 1024;

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
