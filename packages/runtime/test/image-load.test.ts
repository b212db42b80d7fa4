// Loads real archives made by umoci and skopeo into a store, then checks the unpacked layers
// through a real overlayfs mount and the store's Docker-like operations. Needs root.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  access,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { promisify } from "node:util";
import { ImageStore, loadImageArchive, type LoadProgress } from "../src/image/index.js";
import { lgetxattr, mount, umount2 } from "../src/syscall/index.js";
import { buildTestImages, type TestImages } from "./fixtures/images.js";

const run = promisify(execFile);
let work: string;
let images: TestImages;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "corral-image-load-"));
  images = await buildTestImages(join(work, "fixtures"));
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function newStore(name: string): Promise<ImageStore> {
  const root = join(work, name);
  await mkdir(root);
  return new ImageStore(root);
}

/** Mounts the image's layers read-only with overlayfs, runs `fn` on the merged tree. */
async function withMergedRootfs(
  dirs: string[],
  fn: (root: string) => Promise<void>,
): Promise<void> {
  const target = await mkdtemp(join(work, "merged-"));
  mount("overlay", target, "overlay", 0, `lowerdir=${dirs.join(":")}`);
  try {
    await fn(target);
  } finally {
    umount2(target, 0);
    await rm(target, { recursive: true });
  }
}

test("an OCI layout archive loads under the -t name and merges like Docker's overlay2", async () => {
  const store = await newStore("oci");
  const events: LoadProgress[] = [];
  const result = await loadImageArchive(store, images.ociArchive, {
    tag: "corral-test/busybox",
    onProgress: (e) => events.push(e),
  });
  assert.deepEqual(result, { images: [{ id: images.imageId, repoTags: [images.name] }] });
  assert.deepEqual(
    events.filter((e) => e.status !== "unpacking").map((e) => [e.diffId, e.status]),
    images.diffIds.map((d) => [d, "done"]),
  );

  const dirs = await store.layerDirs(images.imageId);
  assert.equal(dirs.length, 2);
  assert.ok(dirs[0]?.includes(images.diffIds[1].slice(7)), "top-most layer first");
  assert.equal(
    lgetxattr(join(dirs[0] ?? "", "data/opaque"), "trusted.overlay.opaque")?.toString(),
    "y",
  );
  const whiteout = await stat(join(dirs[0] ?? "", "etc/gone"));
  assert.ok(whiteout.isCharacterDevice() && whiteout.rdev === 0, "whiteout is a 0:0 char device");

  await withMergedRootfs(dirs, async (root) => {
    await assert.rejects(stat(join(root, "etc/gone")), { code: "ENOENT" });
    assert.deepEqual(await readdir(join(root, "data/opaque")), ["c"]);
    assert.equal(await readFile(join(root, "data/opaque/c"), "utf8"), "c\n");
    assert.equal(await readlink(join(root, "bin/sh")), "busybox");
    assert.match(await readFile(join(root, "etc/passwd"), "utf8"), /^app:x:1000:1000:/m);
    const home = await stat(join(root, "home/app"));
    assert.equal(home.uid, 1000);
    assert.equal((await stat(join(root, "tmp"))).mode & 0o7777, 0o1777);
    assert.equal((await stat(join(root, "bin/busybox"))).mode & 0o777, 0o755);
    // The image works: busybox runs inside the merged tree.
    const { stdout } = await run("chroot", [root, "/bin/sh", "-c", "ls /data/opaque; id -un"]);
    assert.equal(stdout, "c\nroot\n");
  });
});

test("the docker-save form of the same image reuses the unpacked layers", async () => {
  const store = await newStore("docker");
  await loadImageArchive(store, images.dockerArchive);
  const [top] = await store.layerDirs(images.imageId);
  const before = await stat(top ?? "");
  const events: LoadProgress[] = [];
  const again = await loadImageArchive(store, images.dockerArchive, {
    onProgress: (e) => events.push(e),
  });
  assert.deepEqual(again.images, [{ id: images.imageId, repoTags: [images.name] }]);
  assert.deepEqual(
    events.map((e) => e.status),
    ["exists", "exists"],
  );
  // Loading the OCI form too: same id, same layers, still not unpacked again.
  events.length = 0;
  await loadImageArchive(store, images.ociArchive, { onProgress: (e) => events.push(e) });
  assert.deepEqual(
    events.map((e) => e.status),
    ["exists", "exists"],
  );
  assert.equal((await stat(top ?? "")).ino, before.ino);
  const list = await store.list();
  assert.equal(list.length, 1);
  assert.deepEqual(list[0]?.repoTags, [images.name]);
});

test("an OCI archive naming only a tag loads untagged without -t", async () => {
  const store = await newStore("untagged");
  const result = await loadImageArchive(store, images.ociArchive);
  assert.deepEqual(result.images, [{ id: images.imageId, repoTags: [] }]);
  const image = await store.resolve(images.imageId.slice(7, 19));
  assert.deepEqual(image.repoTags, []);
});

test("list, inspect, tag and remove behave like Docker's", async () => {
  const store = await newStore("ops");
  await loadImageArchive(store, images.ociArchive, { tag: images.name });
  const id = images.imageId;
  const repoDigest = `corral-test/busybox@${images.manifestDigest}`;

  const [summary, ...rest] = await store.list();
  assert.equal(rest.length, 0);
  assert.deepEqual(Object.keys(summary ?? {}).sort(), [
    "created",
    "id",
    "repoDigests",
    "repoTags",
    "size",
  ]);
  assert.equal(summary?.id, id);
  assert.ok((summary?.size ?? 0) > 1_900_000, "size counts busybox");

  const inspect = await store.inspect("corral-test/busybox");
  assert.equal(inspect.Id, id);
  assert.deepEqual(inspect.RepoTags, [images.name]);
  assert.deepEqual(inspect.RepoDigests, [repoDigest]);
  assert.deepEqual(inspect.Config.Env, images.env);
  assert.deepEqual(inspect.Config.Cmd, images.cmd);
  assert.equal(inspect.Config.WorkingDir, "/");
  assert.equal(inspect.Config.Entrypoint, null);
  assert.equal(inspect.Config.User, "");
  assert.equal(inspect.Architecture, "amd64");
  assert.equal(inspect.Os, "linux");
  assert.deepEqual(inspect.RootFS, { Type: "layers", Layers: images.diffIds });
  assert.match(inspect.Created, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual((await store.imageConfig(id)).Cmd, ["sh"]);
  assert.equal((await store.resolve(repoDigest)).id, id);
  assert.equal((await store.resolve(id.slice(7))).id, id);
  await assert.rejects(store.resolve("nope:1"), { message: "No such image: nope:1" });
  await assert.rejects(store.resolve("Bad Name"), /invalid reference "Bad Name"/);

  await store.tag("corral-test/busybox", "mybox:1");
  await store.tag(id.slice(7, 19), "localhost:5000/mybox:2");
  assert.deepEqual((await store.resolve("mybox:1")).repoTags, [
    images.name,
    "localhost:5000/mybox:2",
    "mybox:1",
  ]);
  await assert.rejects(store.tag("nope", "x:1"), { message: "No such image: nope" });

  // Several repositories: removing by id needs -f; removing by name only untags.
  await assert.rejects(store.remove(id), /conflict: unable to delete .* use -f/);
  assert.deepEqual(await store.remove("mybox:1"), [{ untagged: "mybox:1" }]);
  assert.deepEqual(await store.remove("localhost:5000/mybox:2", { isInUse: () => true }), [
    { untagged: "localhost:5000/mybox:2" },
  ]);

  // The last name of an image a container uses: refused unless forced.
  const inUse = (imageId: string) => imageId === id;
  await assert.rejects(
    store.remove("corral-test/busybox", { isInUse: inUse }),
    (err: Error) =>
      /conflict: unable to remove corral-test\/busybox:latest/.test(err.message) &&
      /remove the container first or use -f/.test(err.message),
  );
  await assert.rejects(store.remove(id, { isInUse: inUse }), /used by a container/);
  assert.deepEqual(await store.remove("corral-test/busybox", { isInUse: inUse, force: true }), [
    { untagged: images.name },
    { untagged: repoDigest },
    { deleted: id },
  ]);
  assert.deepEqual(await store.list(), []);
  await assert.rejects(store.resolve(id), /No such image/);
});

test("garbageCollect removes unreferenced layers and blobs, never layers in use", async () => {
  const store = await newStore("gc");
  await loadImageArchive(store, images.ociArchive, { tag: images.name });
  const layerDir = (d: string) => join(store.dir, "layers", d.slice(7));

  const idle = await store.garbageCollect();
  assert.deepEqual(idle, { layersRemoved: [], blobsRemoved: [], reclaimedBytes: 0 });

  // A load removed by id: its record goes, layers and blobs stay until GC.
  await store.remove(images.name);
  await stat(layerDir(images.diffIds[0]));
  const [bottom, top] = images.diffIds;
  const first = await store.garbageCollect({ layersInUse: [bottom] });
  assert.deepEqual(first.layersRemoved, [top]);
  assert.deepEqual(first.blobsRemoved.sort(), [images.imageId, images.manifestDigest].sort());
  assert.ok(first.reclaimedBytes > 0);
  await stat(layerDir(bottom));
  await assert.rejects(stat(layerDir(top)), { code: "ENOENT" });

  const second = await store.garbageCollect();
  assert.deepEqual(second.layersRemoved, [bottom]);
  assert.deepEqual(await readdir(join(store.dir, "layers")), []);
  assert.deepEqual(await readdir(join(store.dir, "blobs/sha256")), []);
  assert.deepEqual(await readdir(join(store.dir, "tmp")), []);
  await assert.rejects(store.garbageCollect({ layersInUse: ["nope"] }), /invalid digest/);

  // After GC the image loads (and unpacks) again.
  await loadImageArchive(store, images.dockerArchive);
  assert.equal((await store.layerDirs(images.imageId)).length, 2);
});

test("a layer leased and found present (as by a pull or load) outlives a GC running meanwhile", async () => {
  const store = await newStore("gc-race");
  await store.ready();
  // A load leases a layer, then asks whether the store has it; a GC that read the leases just
  // before must not remove it after the answer "yes". The lease comes after a varying number
  // of event-loop turns, to land anywhere in the GC's run.
  let found = 0;
  for (let turns = 0; turns < 40; turns++) {
    const hex = randomBytes(32).toString("hex");
    const dir = join(store.dir, "layers", hex);
    await mkdir(join(dir, "fs"), { recursive: true });
    const meta = { diffId: `sha256:${hex}`, size: 0, tarSize: 0, createdAt: "" };
    await writeFile(join(dir, "layer.json"), JSON.stringify(meta));
    const gc = store.garbageCollect();
    for (let i = 0; i < turns; i++) await nextTurn();
    const lease = store.lease();
    lease.holdLayer(`sha256:${hex}`);
    const present = await store.hasLayer(`sha256:${hex}`);
    await gc;
    if (present) {
      found++;
      await access(join(dir, "layer.json")).catch(() => assert.fail(`turn ${turns}: removed`));
    }
    lease.release();
    await store.garbageCollect();
  }
  assert.ok(found > 0, "some leases came in time");
});

test("public functions validate their input", async () => {
  const store = await newStore("validate");
  assert.throws(() => new ImageStore("relative/dir"), /absolute path/);
  await assert.rejects(store.resolve(""), /non-empty string/);
  await assert.rejects(store.tag("x", `y@sha256:${"a".repeat(64)}`), /not a digest reference/);
  await assert.rejects(store.layerDirs("busybox"), /image id must be sha256/);
  await assert.rejects(loadImageArchive(store, images.ociArchive, { tag: "Bad" }), /lowercase/);
  await assert.rejects(loadImageArchive(store, join(work, "missing.tar")), /ENOENT/);
});
