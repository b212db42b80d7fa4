import { ImageError } from "./errors.js";

export type Compression = "none" | "gzip";

const MAGIC: ReadonlyArray<[string, Buffer]> = [
  ["zstd", Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
  ["xz", Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  ["bzip2", Buffer.from("BZh")],
];

export interface Sniffed {
  compression: Compression;
  /** The whole input again, the sniffed bytes included. */
  source: AsyncGenerator<Buffer>;
}

/**
 * Looks at the first bytes of a stream to tell gzip from plain tar. Media types in manifests
 * are not trusted for this (docker-save archives have none, and they may lie); the magic
 * bytes decide. Other compressions are refused with a message that names them.
 */
export async function sniffCompression(
  input: AsyncIterable<unknown>,
  what: string,
): Promise<Sniffed> {
  const iterator = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < 6) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    if (!Buffer.isBuffer(next.value)) throw new TypeError(`${what}: expected a byte stream`);
    head.push(next.value);
    length += next.value.length;
  }
  const first = Buffer.concat(head);
  for (const [name, magic] of MAGIC) {
    if (first.subarray(0, magic.length).equals(magic)) {
      await iterator.return?.();
      throw new ImageError(
        "refused",
        `${what} is ${name}-compressed; only uncompressed and gzip-compressed tars are supported`,
      );
    }
  }
  const compression: Compression = first[0] === 0x1f && first[1] === 0x8b ? "gzip" : "none";
  async function* source(): AsyncGenerator<Buffer> {
    try {
      if (first.length > 0) yield first;
      while (!ended) {
        const next = await iterator.next();
        if (next.done) return;
        if (!Buffer.isBuffer(next.value)) throw new TypeError(`${what}: expected a byte stream`);
        yield next.value;
      }
    } finally {
      // Stops (and destroys) the input when the consumer gives up early.
      await iterator.return?.();
    }
  }
  return { compression, source: source() };
}
