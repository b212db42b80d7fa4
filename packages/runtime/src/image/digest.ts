import { createHash } from "node:crypto";
import { ImageError } from "./errors.js";

/** A content digest. Only sha256 is supported: it is what every registry and Docker use. */
export type Digest = `sha256:${string}`;

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === "string" && DIGEST.test(value);
}

/** Validates a digest from untrusted input; `what` names where it came from. */
export function parseDigest(value: unknown, what: string): Digest {
  if (isDigest(value)) return value;
  const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 100)) : typeof value;
  if (typeof value === "string" && /^[a-z0-9]+([+._-][a-z0-9]+)*:/.test(value)) {
    if (!value.startsWith("sha256:")) {
      throw new ImageError("refused", `${what}: unsupported digest algorithm in ${shown}`);
    }
  }
  throw new ImageError("refused", `${what}: invalid digest ${shown}, expected sha256:<64 hex>`);
}

export function digestHex(digest: Digest): string {
  return digest.slice("sha256:".length);
}

export function sha256(data: Buffer | string): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}
