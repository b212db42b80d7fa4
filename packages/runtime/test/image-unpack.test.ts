// What unpackLayer writes: every kind of entry with its metadata, OCI whiteouts turned into
// overlayfs ones, and the diff_id. Needs root (chown, mknod, trusted.* xattrs).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { lstat, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { unpackLayer } from "../src/image/index.js";
import { lgetxattr } from "../src/syscall/index.js";
import { gzip, makeTar, sha256 } from "./fixtures/archives.js";

let work: string;
let n = 0;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "corral-image-unpack-"));
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

function target(): string {
  return join(work, `layer-${n++}`);
}

const T1 = new Date("2020-02-02T02:02:02Z");
const T2 = new Date("2021-03-03T03:03:03Z");

test("entries keep their type, mode, owner and mtime", async () => {
  const tar = await makeTar([
    { header: { name: "./", type: "directory", mode: 0o755, mtime: T2 } },
    { header: { name: "usr/", type: "directory", mode: 0o750, uid: 7, gid: 8, mtime: T1 } },
    {
      header: { name: "usr/bin/su", mode: 0o4755, uid: 0, gid: 0, mtime: T1 },
      content: "#!/bin/sh\n",
    },
    { header: { name: "usr/data", mode: 0o640, uid: 1234, gid: 5678, mtime: T2 }, content: "data" },
    { header: { name: "usr/abs", type: "symlink", linkname: "/etc/shadow", uid: 1234, gid: 1 } },
    { header: { name: "usr/rel", type: "symlink", linkname: "../../../x" } },
    { header: { name: "usr/hard", type: "link", linkname: "usr/data" } },
    { header: { name: "run/pipe", type: "fifo", mode: 0o620, uid: 3, gid: 4, mtime: T1 } },
  ]);
  const dir = target();
  const result = await unpackLayer(Readable.from([tar]), dir);
  assert.equal(result.diffId, sha256(tar));
  assert.equal(result.blobDigest, sha256(tar));
  assert.equal(result.tarSize, tar.length);
  assert.equal(result.size, "#!/bin/sh\n".length + 4);
  assert.equal(result.compression, "none");

  const usr = await stat(join(dir, "usr"));
  assert.deepEqual([usr.mode & 0o7777, usr.uid, usr.gid], [0o750, 7, 8]);
  assert.equal(usr.mtime.getTime(), T1.getTime(), "a directory's mtime survives its contents");
  assert.equal((await stat(dir)).mtime.getTime(), T2.getTime(), "the root takes ./'s metadata");
  const su = await stat(join(dir, "usr/bin/su"));
  assert.equal(su.mode & 0o7777, 0o4755, "setuid kept");
  assert.equal((await stat(join(dir, "usr/bin"))).mode & 0o7777, 0o755, "implicit parent");
  const data = await stat(join(dir, "usr/data"));
  assert.deepEqual(
    [data.mode & 0o7777, data.uid, data.gid, data.mtime.getTime()],
    [0o640, 1234, 5678, T2.getTime()],
  );
  assert.equal(await readFile(join(dir, "usr/data"), "utf8"), "data");
  assert.equal(await readlink(join(dir, "usr/abs")), "/etc/shadow");
  assert.equal((await lstat(join(dir, "usr/abs"))).uid, 1234);
  assert.equal(await readlink(join(dir, "usr/rel")), "../../../x");
  assert.equal((await stat(join(dir, "usr/hard"))).ino, data.ino);
  const pipe = await lstat(join(dir, "run/pipe"));
  assert.ok(pipe.isFIFO());
  assert.deepEqual([pipe.mode & 0o7777, pipe.uid, pipe.gid], [0o620, 3, 4]);
});

test("OCI whiteouts become overlayfs whiteouts and opaque directories", async () => {
  const tar = await makeTar([
    { header: { name: "etc/.wh.gone" }, content: "" },
    { header: { name: "data/opaque/", type: "directory" } },
    { header: { name: "data/opaque/.wh..wh..opq" }, content: "" },
    { header: { name: "data/opaque/c" }, content: "c" },
    { header: { name: ".wh..wh.plnk" }, content: "" },
  ]);
  const dir = target();
  await unpackLayer(Readable.from([tar]), dir);
  const whiteout = await lstat(join(dir, "etc/gone"));
  assert.ok(whiteout.isCharacterDevice());
  assert.equal(whiteout.rdev, 0);
  assert.equal(lgetxattr(join(dir, "data/opaque"), "trusted.overlay.opaque")?.toString(), "y");
  assert.deepEqual(await readdir(join(dir, "data/opaque")), ["c"]);
  assert.deepEqual((await readdir(dir)).sort(), ["data", "etc"], "AUFS metadata is skipped");
});

test("a whiteout hides lower layers only, never an entry of its own layer", async () => {
  const tar = await makeTar([
    { header: { name: "keep" }, content: "same layer" },
    { header: { name: ".wh.keep" }, content: "" },
    { header: { name: "d/", type: "directory" } },
    { header: { name: "d/x" }, content: "x" },
    { header: { name: ".wh.d" }, content: "" },
    { header: { name: ".wh.later" }, content: "" },
    { header: { name: "later/", type: "directory" } },
  ]);
  const dir = target();
  await unpackLayer(Readable.from([tar]), dir);
  assert.equal(await readFile(join(dir, "keep"), "utf8"), "same layer");
  // A directory of this layer that a whiteout names shows only its own content.
  assert.deepEqual(await readdir(join(dir, "d")), ["x"]);
  assert.equal(lgetxattr(join(dir, "d"), "trusted.overlay.opaque")?.toString(), "y");
  assert.ok((await lstat(join(dir, "later"))).isDirectory());
  assert.equal(lgetxattr(join(dir, "later"), "trusted.overlay.opaque")?.toString(), "y");
});

test("a later entry replaces an earlier one, never writing through it", async () => {
  const tar = await makeTar([
    { header: { name: "a" }, content: "file" },
    { header: { name: "a/", type: "directory" } },
    { header: { name: "a/x" }, content: "x" },
    { header: { name: "b", type: "symlink", linkname: "/etc" } },
    { header: { name: "b/", type: "directory" } },
    { header: { name: "b/passwd" }, content: "mine" },
    { header: { name: "c/", type: "directory" } },
    { header: { name: "c/old" }, content: "" },
    { header: { name: "c", type: "symlink", linkname: "a" } },
    { header: { name: "f" }, content: "one" },
    { header: { name: "f" }, content: "two" },
  ]);
  const dir = target();
  await unpackLayer(Readable.from([tar]), dir);
  assert.equal(await readFile(join(dir, "a/x"), "utf8"), "x");
  assert.ok((await lstat(join(dir, "b"))).isDirectory());
  assert.equal(await readFile(join(dir, "b/passwd"), "utf8"), "mine");
  assert.equal(await readlink(join(dir, "c")), "a");
  assert.equal(await readFile(join(dir, "f"), "utf8"), "two");
});

test("gzip layers are detected by magic bytes; diff_id is of the uncompressed tar", async () => {
  const tar = await makeTar([{ header: { name: "hello" }, content: "hi" }]);
  const blob = gzip(tar);
  const result = await unpackLayer(
    Readable.from([blob.subarray(0, 1), blob.subarray(1)]),
    target(),
  );
  assert.equal(result.compression, "gzip");
  assert.equal(result.diffId, sha256(tar));
  assert.equal(result.blobDigest, sha256(blob));
  assert.equal(result.blobSize, blob.length);
});

test("device nodes are made with the tar's numbers, mode and owner", async () => {
  const tar = await makeTar([
    { header: { name: "dev/", type: "directory", mode: 0o755 } },
    {
      header: { name: "dev/console", type: "character-device", devmajor: 5, devminor: 1 },
      content: "",
    },
    {
      header: {
        name: "dev/sda",
        type: "block-device",
        devmajor: 8,
        devminor: 0,
        mode: 0o660,
        gid: 6,
      },
    },
  ]);
  const dir = target();
  const notes: string[] = [];
  await unpackLayer(Readable.from([tar]), dir, { onNote: (note) => notes.push(note) });
  const console = await lstat(join(dir, "dev/console"));
  assert.ok(console.isCharacterDevice());
  assert.deepEqual([console.rdev, console.mode & 0o7777, console.uid], [(5 << 8) | 1, 0o644, 0]);
  const sda = await lstat(join(dir, "dev/sda"));
  assert.ok(sda.isBlockDevice());
  assert.deepEqual([sda.rdev, sda.mode & 0o7777, sda.gid], [8 << 8, 0o660, 6]);
  assert.deepEqual(notes, []);
});

test("without CAP_MKNOD a device node is left out with a note, the layer still unpacks", () => {
  const tar = join(work, "devices.tar");
  const dir = target();
  const script = `
    import { readFileSync } from "node:fs";
    import { Readable } from "node:stream";
    import { unpackLayer } from "./src/image/index.js";
    const notes = [];
    await unpackLayer(Readable.from([readFileSync(${JSON.stringify(tar)})]), ${JSON.stringify(dir)}, {
      onNote: (note) => notes.push(note),
    });
    console.log(JSON.stringify(notes));`;
  return makeTar([
    { header: { name: "dev/console", type: "character-device", devmajor: 5, devminor: 1 } },
    { header: { name: "etc/os-release" }, content: "ID=debian\n" },
  ]).then(async (bytes) => {
    await writeFile(tar, bytes);
    const r = spawnSync(
      "setpriv",
      ["--bounding-set=-mknod", "--inh-caps=-mknod", process.execPath, "--import", "tsx"],
      { input: script, encoding: "utf8", cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [
      'layer entry "dev/console": character device 5:1 left out (mknod: EPERM)',
    ]);
    await assert.rejects(lstat(join(dir, "dev/console")), { code: "ENOENT" });
    assert.equal(await readFile(join(dir, "etc/os-release"), "utf8"), "ID=debian\n");
  });
});

test("a refused layer leaves nothing behind", async () => {
  const tar = await makeTar([
    { header: { name: "ok" }, content: "fine" },
    { header: { name: "etc", type: "symlink", linkname: "/etc" } },
    { header: { name: "etc/passwd" }, content: "root::0:0::/:/bin/sh\n" },
  ]);
  const dir = target();
  await assert.rejects(
    unpackLayer(Readable.from([tar]), dir),
    /refusing layer entry "etc\/passwd": its parent "etc" is a symlink/,
  );
  await assert.rejects(stat(dir), { code: "ENOENT" });
  await assert.rejects(unpackLayer(Readable.from([tar]), dir, { maxBytes: 0 }), /maxBytes/);
});

test("xattrs: file capabilities and user.* are set, overlayfs' own and security labels are not", async () => {
  const pax = {
    "SCHILY.xattr.user.note": "kept",
    "SCHILY.xattr.trusted.overlay.opaque": "y",
    "SCHILY.xattr.security.selinux": "system_u:object_r:kernel_t:s0",
  };
  const tar = await makeTar([
    { header: { name: "d/", type: "directory", pax } },
    { header: { name: "d/f" }, content: "f" },
  ]);
  const dir = target();
  const notes: string[] = [];
  await unpackLayer(Readable.from([tar]), dir, { onNote: (note) => notes.push(note) });
  assert.equal(lgetxattr(join(dir, "d"), "user.note")?.toString(), "kept");
  assert.equal(lgetxattr(join(dir, "d"), "trusted.overlay.opaque"), undefined);
  assert.equal(lgetxattr(join(dir, "d"), "security.selinux"), undefined);
  assert.deepEqual(notes, [
    'layer entry "d/": xattr trusted.overlay.opaque left out',
    'layer entry "d/": xattr security.selinux left out',
  ]);
});
