// save -> the archive's layers hash to the diff_ids, skopeo reads it both as a docker-archive
// and as an OCI archive, and a fresh store loads it back to the same image id. Needs root
// (the unpacker chowns) and umoci/skopeo (the test image is built with them).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { buildTestImages, type TestImages } from "../../test/fixtures/images.js";
import { loadImageArchive } from "./load.js";
import { saveImages } from "./save.js";
import { ImageStore } from "./store.js";
import { TAR_SPLIT_FILE, tarSplitErrorPath } from "./tar-split.js";

const run = promisify(execFile);
let work: string;
let images: TestImages;
let store: ImageStore;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "corral-save-"));
  images = await buildTestImages(join(work, "fixtures"));
  await mkdir(join(work, "a"));
  store = new ImageStore(join(work, "a"));
  await loadImageArchive(store, images.ociArchive, { tag: images.name });
  await store.tag(images.name, "second:1");
});
after(() => rm(work, { recursive: true, force: true }));

async function save(refs: string[], file: string): Promise<Buffer> {
  await pipeline(await saveImages(store, refs), createWriteStream(file));
  return readFile(file);
}

test("saved layers are the original tars: named by and hashing to their diff_ids", async () => {
  const file = join(work, "one.tar");
  const bytes = await save([images.name], file);
  const dir = join(work, "one");
  await mkdir(dir);
  await run("tar", ["-C", dir, "-xf", file]);
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Array<{
    Config: string;
    RepoTags: string[];
    Layers: string[];
  }>;
  assert.deepEqual(manifest, [
    {
      Config: `blobs/sha256/${images.imageId.slice(7)}`,
      RepoTags: [images.name],
      Layers: images.diffIds.map((d) => `blobs/sha256/${d.slice(7)}`),
    },
  ]);
  for (const diffId of images.diffIds) {
    const layer = await readFile(join(dir, "blobs/sha256", diffId.slice(7)));
    assert.equal(`sha256:${createHash("sha256").update(layer).digest("hex")}`, diffId);
  }
  assert.deepEqual(JSON.parse(await readFile(join(dir, "repositories"), "utf8")), {
    "corral-test/busybox": { latest: images.diffIds[1].slice(7) },
  });
  // The same images saved again are the same bytes.
  assert.ok(bytes.equals(await save([images.name], join(work, "again.tar"))));
});

test("skopeo reads the archive as docker-archive and as oci-archive", async () => {
  const file = join(work, "skopeo.tar");
  await save([images.name], file);
  const docker = JSON.parse(
    (await run("skopeo", ["inspect", "--raw", `docker-archive:${file}`])).stdout,
  ) as { layers: Array<{ digest: string }> };
  assert.deepEqual(
    docker.layers.map((l) => l.digest),
    images.diffIds,
  );
  const oci = JSON.parse(
    (await run("skopeo", ["inspect", `oci-archive:${file}:latest`])).stdout,
  ) as {
    Layers: string[];
  };
  assert.deepEqual(oci.Layers, images.diffIds);
});

test("several images and names in one archive; by id an image is saved without a name", async () => {
  const file = join(work, "two.tar");
  await save([images.name, "second:1", images.imageId.slice(7, 19)], file);
  await mkdir(join(work, "b"));
  const other = new ImageStore(join(work, "b"));
  const loaded = await loadImageArchive(other, file);
  assert.deepEqual(loaded.images, [
    { id: images.imageId, repoTags: [images.name, "second:1"].sort() },
  ]);
  assert.deepEqual((await other.inspect(images.imageId)).RootFS.Layers, images.diffIds);

  const byId = join(work, "by-id.tar");
  await save([images.imageId], byId);
  const dir = join(work, "by-id");
  await mkdir(dir);
  await run("tar", ["-C", dir, "-xf", byId]);
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Array<{
    RepoTags: unknown;
  }>;
  assert.equal(manifest[0]?.RepoTags, null);
});

test("bad requests fail before any byte is written", async () => {
  await assert.rejects(saveImages(store, []), /at least one image/);
  await assert.rejects(saveImages(store, ["nope:1"]), /No such image: nope:1/);
});

async function storeWithImage(name: string): Promise<ImageStore> {
  await mkdir(join(work, name));
  const other = new ImageStore(join(work, name));
  await loadImageArchive(other, images.ociArchive, { tag: images.name });
  return other;
}

test("a corrupt config fails the save without keeping its layers leased", async () => {
  const other = await storeWithImage("corrupt-config");
  await writeFile(join(other.dir, "blobs/sha256", images.imageId.slice(7)), "{}");
  await assert.rejects(saveImages(other, [images.name]), /stored config of image .* is corrupt/);
  // With the image record gone its layers are garbage, unless a lease still holds them.
  await rm(join(other.dir, "images", `${images.imageId.slice(7)}.json`));
  const { layersRemoved } = await other.garbageCollect();
  assert.deepEqual(layersRemoved.sort(), [...images.diffIds].sort());
});

test("a layer whose record could not be written says so, not 'an older Corral'", async () => {
  const other = await storeWithImage("no-record");
  const split = join(other.dir, "layers", images.diffIds[0].slice(7), TAR_SPLIT_FILE);
  await rm(split);
  await writeFile(tarSplitErrorPath(split), "a long header is too large\n");
  await assert.rejects(
    saveImages(other, [images.name]),
    /tar could not be recorded when it was stored \(a long header is too large\), so it cannot be rebuilt/,
  );
  await rm(tarSplitErrorPath(split));
  await assert.rejects(saveImages(other, [images.name]), /by an older Corral/);
});
