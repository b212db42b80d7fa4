// The image store after crashes and races: one torn file never breaks every command, a load
// cannot write without bound, a container being created keeps its image's layers.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageStore, loadImageArchive, type Digest } from "../src/image/index.js";
import { ImageApi } from "../src/daemon/images.js";
import type { ContainerService } from "../src/daemon/containers.js";
import { gzip, makeOciArchive, makeTar } from "./fixtures/archives.js";

let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "corral-image-recovery-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function archive(name: string, content: string): Promise<string> {
  const path = join(work, `${name}.tar`);
  const layer = await makeTar([{ header: { name }, content }]);
  await writeFile(path, await makeOciArchive({ layers: [layer] }));
  return path;
}

async function freshStore(name: string): Promise<ImageStore> {
  return new ImageStore(join(work, name));
}

test("a malformed layer.json: GC and images still work, and a load brings the layer back", async () => {
  const store = await freshStore("layer-json");
  const a = await loadImageArchive(store, await archive("a", "a\n"), { tag: "a:1" });
  const b = await loadImageArchive(store, await archive("b", "b\n"), { tag: "b:1" });
  const aImage = await store.resolve("a:1");
  const bImage = await store.resolve("b:1");
  const layerOf = (diffId: string): string =>
    join(store.dir, "layers", diffId.replace("sha256:", ""), "layer.json");
  await writeFile(layerOf(aImage.diffIds[0] as string), '{"diffId": "sha256:'); // torn
  await writeFile(layerOf(bImage.diffIds[0] as string), "{}"); // not a layer's
  assert.equal(await store.hasLayer(aImage.diffIds[0] as Digest), false);
  // `images` and a collection go on (the torn layers are absent; the images keep them).
  assert.equal((await store.list()).length, 2);
  await store.remove("b:1");
  const gc = await store.garbageCollect();
  assert.deepEqual(gc.layersRemoved, bImage.diffIds);
  // Loading the image again replaces its torn layer whole.
  await loadImageArchive(store, await archive("a", "a\n"), { tag: "a:1" });
  assert.equal(await store.hasLayer(aImage.diffIds[0] as Digest), true);
  assert.equal(a.images[0]?.id, aImage.id);
  assert.ok(b.images[0]);
});

test("an unreadable image record is skipped by images, the others listed", async () => {
  const store = await freshStore("records");
  await loadImageArchive(store, await archive("c", "c\n"), { tag: "c:1" });
  const bad = await loadImageArchive(store, await archive("d", "d\n"), { tag: "d:1" });
  const badId = (bad.images[0]?.id ?? "").replace("sha256:", "");
  await writeFile(join(store.dir, "images", `${badId}.json`), '{"schemaVersion": 1, "id": "sh');
  const listed = await store.list();
  assert.deepEqual(
    listed.map((i) => i.repoTags),
    [["c:1"]],
  );
  await store.garbageCollect(); // not aborted either
  await store.remove(badId.slice(0, 12)); // and it can be removed by its id
  assert.equal((await readdir(join(store.dir, "images"))).length, 1);
});

test("a load is capped in all it writes, not only per layer", async () => {
  const store = await freshStore("total-cap");
  // Eight small gzip layers of 1 MiB of zeros each (distinct, so none is shared).
  const layers = await Promise.all(
    Array.from({ length: 8 }, async (_, i) =>
      gzip(await makeTar([{ header: { name: `z${i}` }, content: Buffer.alloc(1024 * 1024) }])),
    ),
  );
  const path = join(work, "many.tar");
  await writeFile(path, await makeOciArchive({ layers }));
  const options = { tag: "many:1", maxLayerBytes: 2 * 1024 * 1024 };
  await assert.rejects(
    loadImageArchive(store, path, { ...options, maxTotalBytes: 4 * 1024 * 1024 }),
    /writes more than the limit of 4194304 bytes in all/,
  );
  assert.deepEqual(await readdir(join(store.dir, "layers")), [], "nothing registered");
  assert.deepEqual(await readdir(join(store.dir, "tmp")), [], "nothing left behind");
  await loadImageArchive(store, path, { ...options, maxTotalBytes: 64 * 1024 * 1024 });
});

test("a container being created keeps its image's layers through rmi and GC", async () => {
  const root = join(work, "lease");
  const images = new ImageApi(root);
  await loadImageArchive(images.store, await archive("e", "e\n"), { tag: "e:1" });
  const noContainers = { layerDirsInUse: () => new Set<string>() } as unknown as ContainerService;
  const resolved = await images.resolveForRun("e:1");
  // Between resolving and registering the container: the image goes, a collection runs.
  await images.store.remove("e:1");
  const gc = await images.collectGarbage(noContainers);
  assert.deepEqual(gc.layersRemoved, [], "leased layers stay");
  for (const dir of resolved.layerDirs) await readdir(dir);
  resolved.release();
  const after = await images.collectGarbage(noContainers);
  assert.equal(after.layersRemoved.length, 1, "released, they go with the next collection");
});
