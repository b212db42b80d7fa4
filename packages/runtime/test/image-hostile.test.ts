// Hostile layers and archives: each must be refused with a one-line error that names the
// problem, and leave the store exactly as it was (no image, no tag, no temp files).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ImageStore, loadImageArchive, type LoadOptions } from "../src/image/index.js";
import { gzip, makeOciArchive, makeTar, sha256, type TarEntry } from "./fixtures/archives.js";

let work: string;
let hostDir: string;
let store: ImageStore;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "corral-image-hostile-"));
  hostDir = join(work, "host");
  await mkdir(hostDir);
  await mkdir(join(work, "root"));
  store = new ImageStore(join(work, "root"));
  // A good image first, so "nothing changed" is checked against a non-empty store.
  const good = await makeOciArchive({
    layers: [await makeTar([{ header: { name: "hello" }, content: "hi\n" }])],
  });
  await loadImageArchive(store, await save("good.tar", good), { tag: "good:1" });
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function save(name: string, data: Buffer): Promise<string> {
  const path = join(work, name);
  await writeFile(path, data);
  return path;
}

/** Every path under the store with its type and size: equal snapshots = nothing changed. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const path = join(d, name);
      const st = await lstat(path);
      out.push(`${relative(dir, path)} ${st.mode.toString(8)} ${st.isDirectory() ? "" : st.size}`);
      if (st.isDirectory()) await walk(path);
    }
  };
  await walk(dir);
  return out;
}

async function assertRefused(
  archive: Buffer,
  pattern: RegExp,
  options: LoadOptions = {},
): Promise<void> {
  const path = await save("evil.tar", archive);
  const before = await snapshot(store.dir);
  const listBefore = await store.list();
  await assert.rejects(
    loadImageArchive(store, path, { tag: "evil:1", ...options }),
    (err: Error) => {
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes("\n"), `one line: ${err.message}`);
      return true;
    },
  );
  assert.deepEqual(await snapshot(store.dir), before, "the store is unchanged");
  assert.deepEqual(await store.list(), listBefore);
  assert.deepEqual(await readdir(join(store.dir, "tmp")), [], "no temp leftovers");
  await assert.rejects(store.resolve("evil:1"), /No such image: evil:1/);
}

async function evilLayer(entries: TarEntry[]): Promise<Buffer> {
  return makeOciArchive({ layers: [await makeTar(entries)] });
}

test("a layer entry climbing out with .. is refused", async () => {
  await assertRefused(
    await evilLayer([{ header: { name: "../escape" }, content: "x" }]),
    /refusing layer entry "\.\.\/escape": .*escapes/,
  );
  for (const dir of [work, store.dir, join(store.dir, "tmp")]) {
    await assert.rejects(lstat(join(dir, "escape")), { code: "ENOENT" });
  }
});

test("a layer entry with an absolute path is refused", async () => {
  await assertRefused(
    await evilLayer([{ header: { name: "/abs" }, content: "x" }]),
    /refusing layer entry "\/abs": .*absolute path/,
  );
});

test("writing through a symlink planted earlier in the layer is refused", async () => {
  await assertRefused(
    await evilLayer([
      { header: { name: "link", type: "symlink", linkname: hostDir } },
      { header: { name: "link/pwned" }, content: "x" },
    ]),
    /refusing layer entry "link\/pwned": its parent "link" is a symlink/,
  );
  assert.deepEqual(await readdir(hostDir), []);
});

test("hard links to files outside the layer, or to nothing, are refused", async () => {
  await assertRefused(
    await evilLayer([{ header: { name: "passwd", type: "link", linkname: "/etc/passwd" } }]),
    /refusing layer entry "passwd": hard link target "\/etc\/passwd" has an absolute path/,
  );
  await assertRefused(
    await evilLayer([{ header: { name: "x", type: "link", linkname: "../x" } }]),
    /refusing layer entry "x": hard link target "\.\.\/x" escapes/,
  );
  await assertRefused(
    await evilLayer([{ header: { name: "x", type: "link", linkname: "missing" } }]),
    /hard link target "missing" does not exist in the layer/,
  );
  await assertRefused(
    await evilLayer([
      { header: { name: "d", type: "symlink", linkname: "/etc" } },
      { header: { name: "x", type: "link", linkname: "d/passwd" } },
    ]),
    /hard link target "d\/passwd" does not exist in the layer/,
  );
});

test("device nodes are unpacked as Docker does, where no host user can reach them", async () => {
  // Its own store: this one is not refused, and the others check that nothing changes.
  const root = join(work, "devices-root");
  await mkdir(root);
  const devices = new ImageStore(root);
  const layer = await makeTar([
    { header: { name: "dev/mem", type: "character-device", devmajor: 1, devminor: 1 } },
    { header: { name: "sda", type: "block-device", devmajor: 8, devminor: 0, mode: 0o666 } },
  ]);
  const archive = await save("devices.tar", await makeOciArchive({ layers: [layer] }));
  await loadImageArchive(devices, archive, { tag: "devices:1" });
  const [fs] = await devices.layerDirs((await devices.resolve("devices:1")).id);
  assert.ok(fs !== undefined);
  assert.ok((await lstat(join(fs, "dev/mem"))).isCharacterDevice());
  assert.equal((await lstat(join(fs, "sda"))).rdev, 8 << 8);
  // The store's image dir is 0700 root: a host user cannot even reach the layers.
  const image = await lstat(devices.dir);
  assert.deepEqual([image.mode & 0o777, image.uid], [0o700, 0]);
});

test("a layer whose content does not match the config's diff_id is refused", async () => {
  const layer = await makeTar([{ header: { name: "a" }, content: "a" }]);
  await assertRefused(
    await makeOciArchive({ layers: [layer], diffIds: [sha256("something else")] }),
    /unpacks to diff_id sha256:[a-f0-9]{64} but the image config says/,
  );
});

test("a blob whose content does not match its digest is refused", async () => {
  const layer = await makeTar([{ header: { name: "a" }, content: "a" }]);
  await assertRefused(
    await makeOciArchive({ layers: [layer], claimLayerDigest: () => sha256("other") }),
    /layer blob sha256:[a-f0-9]{64} does not match its digest/,
  );
});

test("a gzip bomb stops at the size cap", async () => {
  const zeros = await makeTar([
    { header: { name: "zeros" }, content: Buffer.alloc(32 * 1024 * 1024) },
  ]);
  const bomb = gzip(zeros);
  assert.ok(bomb.length < 100_000);
  await assertRefused(
    await makeOciArchive({ layers: [bomb] }),
    /larger than the limit of 1048576 bytes/,
    {
      maxLayerBytes: 1024 * 1024,
    },
  );
  // The same kind of cap guards the (gzip-compressed) archive as a whole.
  const archiveBomb = gzip(await makeOciArchive({ layers: [zeros] }));
  assert.ok(archiveBomb.length < 100_000);
  await assertRefused(archiveBomb, /image archive is larger than the limit/, {
    maxArchiveBytes: 1024 * 1024,
  });
});

test("zstd and garbage layers are refused with a clear message", async () => {
  const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(100)]);
  await assertRefused(await makeOciArchive({ layers: [zstd] }), /layer is zstd-compressed/);
  await assertRefused(
    await makeOciArchive({ layers: [Buffer.alloc(1024, 7)] }),
    /Invalid tar header/,
  );
});

test("hostile archive members are refused", async () => {
  const layer = await makeTar([{ header: { name: "a" }, content: "a" }]);
  await assertRefused(
    await makeOciArchive({
      layers: [layer],
      extraMembers: [{ header: { name: "../evil" }, content: "x" }],
    }),
    /archive member "\.\.\/evil" escapes/,
  );
  await assertRefused(
    await makeOciArchive({
      layers: [layer],
      extraMembers: [{ header: { name: "/evil" }, content: "x" }],
    }),
    /archive member "\/evil" has an absolute path/,
  );
  await assertRefused(
    await makeOciArchive({
      layers: [layer],
      extraMembers: [
        { header: { name: "blobs/x", type: "symlink", linkname: "../../etc/passwd" } },
      ],
    }),
    /symlink "blobs\/x" target .*escapes/,
  );
  await assertRefused(
    await makeOciArchive({ layers: [layer], indexJson: " ".repeat(9 * 1024 * 1024) }),
    /OCI index "index\.json" is 9437184 bytes, more than the limit of 8388608/,
  );
  await assertRefused(
    await makeTar([{ header: { name: "hello" }, content: "x" }]),
    /not an image archive/,
  );
});
