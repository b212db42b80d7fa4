// A layer unpacked with a tar-split record is rebuilt byte for byte, whatever wrote the tar:
// GNU tar in each of its formats (long names as GNU records, PAX records, ustar prefixes),
// tar-stream, odd padding and trailing zero blocks. Needs root (the unpacker chowns).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  linkSync,
} from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pack } from "tar-stream";
import { unpackLayer } from "./unpack.js";
import { assembleTar } from "./tar-split.js";

let work: string;
let n = 0;

before(() => {
  work = mkdtempSync(join(tmpdir(), "corral-tar-split-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

async function roundTrip(tar: Buffer): Promise<{ rebuilt: Buffer; dir: string }> {
  const dir = join(work, `layer-${n++}`);
  mkdirSync(dir);
  const split = join(dir, "tar-split.json.gz");
  const result = await unpackLayer(Readable.from([tar]), join(dir, "fs"), { tarSplitPath: split });
  assert.equal(result.diffId, `sha256:${createHash("sha256").update(tar).digest("hex")}`);
  const chunks: Buffer[] = [];
  for await (const chunk of assembleTar(split, join(dir, "fs"))) chunks.push(chunk);
  return { rebuilt: Buffer.concat(chunks), dir };
}

function sourceTree(): string {
  const src = join(work, `src-${n++}`);
  const deep = join(src, "a".repeat(60), "b".repeat(60), "c".repeat(60));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, `${"long-name-".repeat(12)}.txt`), "deep\n");
  writeFileSync(join(src, "empty"), "");
  writeFileSync(join(src, "odd"), Buffer.alloc(513, 7)); // padding of 511 bytes
  writeFileSync(join(src, "exact"), Buffer.alloc(1024, 1)); // no padding
  writeFileSync(join(src, "ünïcode-é"), "utf-8 name\n");
  linkSync(join(src, "odd"), join(src, "hardlink"));
  symlinkSync("odd", join(src, "symlink"));
  symlinkSync("x".repeat(150), join(src, "long-symlink"));
  writeFileSync(join(src, ".wh.gone"), "");
  mkdirSync(join(src, "opaque"));
  writeFileSync(join(src, "opaque", ".wh..wh..opq"), "");
  chmodSync(join(src, "odd"), 0o4755);
  return src;
}

for (const format of ["gnu", "posix", "ustar", "oldgnu"]) {
  test(`a GNU tar (--format=${format}) layer is rebuilt byte for byte`, async () => {
    const src = sourceTree();
    if (format === "ustar") {
      // ustar holds neither long symlink targets nor names past a 155-byte prefix; a name
      // past 100 bytes still exercises the prefix field.
      rmSync(join(src, "long-symlink"));
      const ab = join(src, "a".repeat(60), "b".repeat(60));
      rmSync(join(ab, "c".repeat(60)), { recursive: true });
      writeFileSync(join(ab, "prefixed.txt"), "prefix\n");
    }
    const tar = execFileSync("tar", [`--format=${format}`, "-C", src, "-cf", "-", "."], {
      maxBuffer: 1 << 26,
    });
    const { rebuilt } = await roundTrip(tar);
    assert.equal(rebuilt.length, tar.length);
    assert.ok(rebuilt.equals(tar), "the rebuilt tar is the original");
  });
}

test("a tar-stream layer with PAX records, a global header and extra zero blocks", async () => {
  const tar = pack();
  const mtime = new Date("2024-01-01T00:00:00Z");
  tar.entry({ name: "g", type: "pax-global-header", pax: { comment: "global" } } as never);
  tar.entry({ name: "dir/", type: "directory", mode: 0o755, mtime });
  tar.entry({ name: `dir/${"p".repeat(120)}`, type: "file", mode: 0o644, mtime }, "pax path\n");
  tar.entry({ name: "dir/big", type: "file", mode: 0o600, mtime }, Buffer.alloc(70000, 3));
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  const original = Buffer.concat([...chunks, Buffer.alloc(4096)]);
  const { rebuilt } = await roundTrip(original);
  assert.ok(rebuilt.equals(original));
});

test("a file changed after unpacking is reported, not silently packed", async () => {
  const src = sourceTree();
  const tar = execFileSync("tar", ["-C", src, "-cf", "-", "."], { maxBuffer: 1 << 26 });
  const { dir } = await roundTrip(tar);
  await writeFile(join(dir, "fs", "odd"), "shorter");
  await assert.rejects(async () => {
    for await (const _chunk of assembleTar(join(dir, "tar-split.json.gz"), join(dir, "fs"))) {
      // reading on
    }
  }, /layer file "\.\/(odd|hardlink)" is 7 bytes, the layer's tar had 513/);
  assert.ok((await readFile(join(dir, "tar-split.json.gz"))).length < tar.length / 4);
});
