import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { ImageError } from "./errors.js";
import type { Digest } from "./digest.js";

/**
 * A pass-through that hashes (sha256) and counts what flows through it and fails the stream
 * once more than `limit` bytes passed: the defense against decompression bombs, applied to
 * the decompressed side of a pipeline.
 */
export class HashMeter extends Transform {
  bytes = 0;
  /** Set when the limit was hit, so callers can report it rather than a secondary error. */
  limitError: ImageError | undefined;
  private readonly hash = createHash("sha256");
  private sum: Digest | undefined;
  private lastReport = 0;

  constructor(
    private readonly limit: number,
    private readonly what: string,
    private readonly onBytes?: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!Buffer.isBuffer(chunk)) {
      done(new TypeError(`${this.what}: expected a byte stream`));
      return;
    }
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      this.limitError = new ImageError(
        "refused",
        `${this.what} is larger than the limit of ${this.limit} bytes (possible decompression bomb)`,
      );
      done(this.limitError);
      return;
    }
    this.hash.update(chunk);
    if (this.onBytes && this.bytes - this.lastReport >= 1 << 22) {
      this.lastReport = this.bytes;
      this.onBytes(this.bytes);
    }
    done(null, chunk);
  }

  /** The sha256 of everything that passed; call once the stream has finished. */
  digest(): Digest {
    this.sum ??= `sha256:${this.hash.digest("hex")}`;
    return this.sum;
  }
}
