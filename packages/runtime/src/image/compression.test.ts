import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { sniffCompression } from "./compression.js";

async function* chunks(...parts: Buffer[]): AsyncGenerator<Buffer> {
  yield* parts;
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of source) out.push(chunk);
  return Buffer.concat(out);
}

test("gzip is recognized across tiny chunks and the bytes come back whole", async () => {
  const data = gzipSync("hello");
  const { compression, source } = await sniffCompression(
    chunks(data.subarray(0, 1), data.subarray(1, 2), data.subarray(2)),
    "layer",
  );
  assert.equal(compression, "gzip");
  assert.deepEqual(await collect(source), data);
});

test("plain and empty inputs are uncompressed", async () => {
  const plain = await sniffCompression(chunks(Buffer.from("ustar data")), "layer");
  assert.equal(plain.compression, "none");
  assert.equal((await collect(plain.source)).toString(), "ustar data");
  const empty = await sniffCompression(chunks(), "layer");
  assert.equal(empty.compression, "none");
  assert.equal((await collect(empty.source)).length, 0);
});

test("zstd, xz and bzip2 are refused by name", async () => {
  const cases: Array<[number[], string]> = [
    [[0x28, 0xb5, 0x2f, 0xfd, 0, 0], "zstd"],
    [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz"],
    [[0x42, 0x5a, 0x68, 0x39, 0, 0], "bzip2"],
  ];
  for (const [magic, name] of cases) {
    await assert.rejects(
      sniffCompression(chunks(Buffer.from(magic)), "layer"),
      new RegExp(`layer is ${name}-compressed; only uncompressed and gzip`),
    );
  }
});
