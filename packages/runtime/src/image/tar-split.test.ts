// A layer unpacked with a tar-split record is rebuilt byte for byte, whatever wrote the tar:
// GNU tar in each of its formats (long names as GNU records, PAX records, ustar prefixes),
// tar-stream, odd padding and trailing zero blocks. Needs root (the unpacker chowns).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  constants as fsc,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  linkSync,
} from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { pack } from "tar-stream";
import { S_IFBLK, S_IFCHR, lgetxattr, mknod } from "../syscall/index.js";
import { unpackLayer } from "./unpack.js";
import { TarSplitRecorder, assembleTar, tarSplitErrorPath } from "./tar-split.js";

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
  // What a Debian rootfs from mmdebstrap carries in /dev.
  mkdirSync(join(src, "dev"));
  mknod(join(src, "dev", "console"), S_IFCHR | 0o600, 5, 1);
  mknod(join(src, "dev", "loop0"), S_IFBLK | 0o660, 7, 0);
  chmodSync(join(src, "dev", "loop0"), 0o660); // mknod applies the umask
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

test("device nodes and xattrs (GNU tar --xattrs) are unpacked and rebuilt byte for byte", async () => {
  const src = sourceTree();
  const ping = join(src, "ping");
  writeFileSync(ping, "\x7fELF");
  execFileSync("setcap", ["cap_net_raw,cap_setuid+ep", ping]); // setuid (7): a 0x80 byte
  execFileSync("setfattr", ["-n", "user.origin", "-v", "debian", ping]);
  const capability = lgetxattr(ping, "security.capability");
  assert.ok(capability !== undefined && capability.some((b) => b >= 0x80), "a binary value");
  const tar = execFileSync(
    "tar",
    ["--format=posix", "--xattrs", "--xattrs-include=*", "-C", src, "-cf", "-", "."],
    { maxBuffer: 1 << 26 },
  );
  assert.ok(tar.includes("SCHILY.xattr.security.capability="), "the tar carries the capability");
  const { rebuilt, dir } = await roundTrip(tar);
  assert.ok(rebuilt.equals(tar), "the rebuilt tar is the original, PAX records included");
  const fs = join(dir, "fs");
  assert.deepEqual(lgetxattr(join(fs, "ping"), "security.capability"), capability);
  assert.equal(lgetxattr(join(fs, "ping"), "user.origin")?.toString(), "debian");
  const console = statSync(join(fs, "dev", "console"));
  assert.ok(console.isCharacterDevice());
  assert.deepEqual([console.rdev, console.mode & 0o7777], [(5 << 8) | 1, 0o600]);
  const loop = statSync(join(fs, "dev", "loop0"));
  assert.ok(loop.isBlockDevice());
  assert.deepEqual([loop.rdev, loop.mode & 0o7777], [7 << 8, 0o660]);
});

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

async function tarOf(entries: Array<[Record<string, unknown>, string?]>): Promise<Buffer> {
  const tar = pack();
  for (const [header, content] of entries) {
    if (content === undefined) tar.entry(header as never);
    else tar.entry(header as never, content);
  }
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Unpacks `tar` with a record; returns the record's path and the unpacked tree's. */
async function unpacked(tar: Buffer): Promise<{ split: string; fs: string }> {
  const dir = join(work, `layer-${n++}`);
  mkdirSync(dir);
  const split = join(dir, "tar-split.json.gz");
  await unpackLayer(Readable.from([tar]), join(dir, "fs"), { tarSplitPath: split });
  return { split, fs: join(dir, "fs") };
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const all: Buffer[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return Buffer.concat(all);
}

test("a layer whose directory became a symlink later is not rebuilt through it", async () => {
  // Allowed in a layer (Docker and containerd replace the directory), but the record still
  // names a/secret: reading it through the symlink would read the host's file.
  const host = join(work, `host-${n++}`);
  mkdirSync(host);
  const secret = "HOST SECRET, never to be read\n";
  writeFileSync(join(host, "secret"), secret);
  const layerContent = "x".repeat(secret.length);
  const tar = await tarOf([
    [{ name: "a/", type: "directory" }],
    [{ name: "a/secret", type: "file" }, layerContent],
    [{ name: "a", type: "symlink", linkname: host }],
  ]);
  const { split, fs } = await unpacked(tar);
  const out: Buffer[] = [];
  await assert.rejects(async () => {
    for await (const chunk of assembleTar(split, fs)) out.push(chunk);
  }, /layer file "a\/secret": its parent "a" is a symlink/);
  assert.ok(!Buffer.concat(out).includes("HOST SECRET"), "no byte of the host's file");
});

test("a file replaced by a fifo later in the layer fails at once, never blocking", async () => {
  const tar = await tarOf([
    [{ name: "p", type: "file" }, "content\n"],
    [{ name: "p", type: "fifo" }],
  ]);
  const { split, fs } = await unpacked(tar);
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      // Opening the other end releases an open() stuck on the fifo, so the test can end.
      closeSync(openSync(join(fs, "p"), fsc.O_WRONLY | fsc.O_NONBLOCK));
      reject(new Error("assembleTar blocked on the fifo"));
    }, 5000);
  });
  try {
    await assert.rejects(
      Promise.race([collect(assembleTar(split, fs)), hung]),
      /layer file "p" is not a regular file/,
    );
  } finally {
    clearTimeout(timer);
  }
});

test("destroyed recorders close their record file (no descriptor leaks)", async () => {
  const fds = (): number => readdirSync("/proc/self/fd").length;
  const before = fds();
  for (let i = 0; i < 20; i++) {
    const recorder = new TarSplitRecorder(join(work, `destroyed-${n++}.json.gz`));
    const closed = new Promise((resolve) => recorder.once("close", resolve));
    recorder.on("error", () => undefined);
    recorder.write(Buffer.alloc(512 * 3));
    recorder.destroy(new Error("unpack failed"));
    await closed;
  }
  await sleep(100); // time for any file stream's open() to complete
  assert.equal(fds(), before);
});

/** A ustar header block: name, size (as written, octal) and type flag. */
function header(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0);
  block.write("0000644\0", 100);
  block.write(size.toString(8).padStart(11, "0") + "\0", 124);
  block.write("00000000000\0", 136);
  block.write(type, 156);
  block.write("ustar\0" + "00", 257);
  block.fill(32, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return block;
}

test("a recorder that gives up leaves a note saying why, in place of the record", async () => {
  // A PAX record larger than tar-stream's 4 MiB limit: the scanner stops following the tar.
  const path = join(work, `broken-${n++}.json.gz`);
  const recorder = new TarSplitRecorder(path);
  const tar = Buffer.concat([header("pax", 5 * 1024 * 1024, "x"), Buffer.alloc(1024)]);
  await pipeline(
    Readable.from([tar]),
    recorder,
    new Writable({ write: (_chunk, _encoding, done) => done() }),
  );
  assert.equal(recorder.brokenReason, "a long header is too large");
  assert.ok(!existsSync(path), "no record");
  assert.equal(await readFile(tarSplitErrorPath(path), "utf8"), "a long header is too large\n");
});
