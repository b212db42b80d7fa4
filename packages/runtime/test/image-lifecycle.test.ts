// The image life cycle through the real CLI and daemon, as a user would type it: tag, rmi
// (untag vs delete, refused while used), image prune, history, save -> skopeo -> load,
// system df, image inspect, and garbage collection leaving nothing behind. Needs root.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { formatBytes } from "../src/cli/format.js";
import { makeOciArchive, makeTar } from "./fixtures/archives.js";
import { buildTestImages, TEST_IMAGE_NAME, type TestImages } from "./fixtures/images.js";
import { pushWithSkopeo, startRegistry } from "./fixtures/registry.js";
import { CLI, startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
let images: TestImages;
const rt = (...args: string[]): ReturnType<TestRuntime["rt"]> => runtime.rt(...args);
const ok = (...args: string[]): string => {
  const r = rt(...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.err}`);
  return r.out;
};
const jsonLines = <T>(out: string): T[] =>
  out
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

interface ImageRow {
  Repository: string;
  Tag: string;
  Digest: string;
  ID: string;
}

const storeDir = (): string => join(runtime.base, "root", "image");

/** Every file under the store's images, layers and blobs, relative to the store. */
function storeFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(storeDir(), path));
    }
  };
  for (const sub of ["images", "layers", "blobs"]) walk(join(storeDir(), sub));
  return out.sort();
}

function layerSize(diffId: string): number {
  const meta = join(storeDir(), "layers", diffId.slice(7), "layer.json");
  return (JSON.parse(readFileSync(meta, "utf8")) as { size: number }).size;
}

/** A one-layer image of its own (not runnable: no shell), as an OCI archive file. */
async function smallImage(name: string, content: string): Promise<string> {
  const layer = await makeTar([{ header: { name: `${name}.txt` }, content }]);
  const file = join(runtime.base, `${name}.tar`);
  writeFileSync(file, await makeOciArchive({ layers: [layer] }));
  return file;
}

function loadedId(out: string): string {
  const id = /Loaded image ID: (sha256:[0-9a-f]{64})/.exec(out)?.[1];
  assert.ok(id, out);
  return id;
}

describe("image life cycle", () => {
  before(async () => {
    runtime = await startRuntime("lifecycle");
    images = await buildTestImages(join(runtime.base, "images"));
  });
  after(() => runtime.cleanup());

  test("tag adds names; rmi of one of several names only untags; by id it needs -f", () => {
    ok("tag", TEST_IMAGE_NAME, "mybox:1");
    ok("image", "tag", images.imageId.slice(7, 19), "corral-test/busybox:2");
    const rows = jsonLines<ImageRow>(ok("images", "--format", "json"));
    assert.deepEqual(rows.map((r) => `${r.Repository}:${r.Tag}`).sort(), [
      "corral-test/busybox:2",
      "corral-test/busybox:latest",
      "mybox:1",
    ]);
    assert.deepEqual(new Set(rows.map((r) => r.ID)), new Set([images.imageId.slice(7, 19)]));
    assert.equal(ok("images", "-q"), `${images.imageId.slice(7, 19)}\n`);
    assert.equal(ok("images", "-q", "--no-trunc"), `${images.imageId}\n`);
    assert.match(ok("images", "mybox"), /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\nmybox +1 +/);

    const missing = rt("tag", "nope", "x:1");
    assert.equal(missing.code, 1);
    assert.equal(missing.err, "corral-rt: No such image: nope\n");
    const bad = rt("tag", TEST_IMAGE_NAME, "Bad:Name");
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^corral-rt: invalid reference "Bad:Name": .*\n$/);

    const byId = rt("rmi", images.imageId.slice(7, 19));
    assert.equal(byId.code, 1);
    assert.match(byId.err, /conflict: unable to delete .* use -f/);
    assert.equal(ok("rmi", "mybox:1"), "Untagged: mybox:1\n");
    // Two tags of one repository are still "several names" for a removal by id (Docker's rule).
    assert.match(rt("rmi", images.imageId).err, /conflict: unable to delete/);
    assert.equal(ok("image", "rm", "corral-test/busybox:2"), "Untagged: corral-test/busybox:2\n");
    assert.equal(ok("images", "-q"), `${images.imageId.slice(7, 19)}\n`);

    // rmi goes on after a failure and exits 1, as Docker's.
    ok("tag", TEST_IMAGE_NAME, "mybox:2");
    const mixed = rt("rmi", "nope:1", "mybox:2");
    assert.equal(mixed.code, 1);
    assert.equal(mixed.out, "Untagged: mybox:2\n");
    assert.equal(mixed.err, "corral-rt: No such image: nope:1\n");
  });

  test("rmi refuses an image a container uses; -f deletes it and the container still runs", () => {
    const id = ok("create", "--name", "user", TEST_IMAGE_NAME, "cat", "/etc/passwd").trim();
    const refused = rt("rmi", TEST_IMAGE_NAME);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /unable to remove corral-test\/busybox:latest .*used by a container/);
    assert.match(rt("rmi", images.imageId).err, /used by a container/);
    assert.equal(ok("images", "-q"), `${images.imageId.slice(7, 19)}\n`);

    assert.equal(
      ok("rmi", "-f", TEST_IMAGE_NAME),
      `Untagged: ${TEST_IMAGE_NAME}\nDeleted: ${images.imageId}\n`,
    );
    assert.equal(ok("images", "-q"), "");
    // Its layers stay while the container needs them.
    for (const d of images.diffIds) assert.ok(existsSync(join(storeDir(), "layers", d.slice(7))));
    const started = rt("start", "-a", id);
    assert.equal(started.code, 0, started.err);
    assert.match(started.out, /^root:x:0:0:/);
    ok("rm", id);
    assert.match(ok("image", "prune", "-f"), /Total reclaimed space: [1-9]/);
    assert.deepEqual(storeFiles(), []);

    // Loaded again as an OCI archive: now with a digest, which --digests shows.
    ok("load", "-i", images.ociArchive, "-t", TEST_IMAGE_NAME);
    const digests = ok("images", "--digests");
    assert.match(
      digests,
      new RegExp(
        `^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE\ncorral-test/busybox +latest +${images.manifestDigest} +${images.imageId.slice(7, 19)} +`,
      ),
    );
    assert.equal(
      jsonLines<ImageRow>(ok("images", "--format", "json"))[0]?.Digest,
      images.manifestDigest,
    );
  });

  test("image inspect is Docker-shaped", () => {
    const [inspect] = JSON.parse(ok("image", "inspect", TEST_IMAGE_NAME)) as Array<{
      Id: string;
      RepoTags: string[];
      RepoDigests: string[];
      Created: string;
      Config: { Env: string[]; Cmd: string[]; WorkingDir: string };
      RootFS: { Type: string; Layers: string[] };
      Size: number;
      Architecture: string;
      Os: string;
      GraphDriver: { Name: string; Data: { LowerDir: string; UpperDir: string } };
    }>;
    assert.ok(inspect);
    assert.equal(inspect.Id, images.imageId);
    assert.deepEqual(inspect.RepoTags, [TEST_IMAGE_NAME]);
    assert.deepEqual(inspect.RepoDigests, [`corral-test/busybox@${images.manifestDigest}`]);
    assert.match(inspect.Created, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(inspect.Config.Env, images.env);
    assert.deepEqual(inspect.Config.Cmd, images.cmd);
    assert.deepEqual(inspect.RootFS, { Type: "layers", Layers: images.diffIds });
    assert.equal(inspect.Size, layerSize(images.diffIds[0]) + layerSize(images.diffIds[1]));
    assert.equal(inspect.Architecture, "amd64");
    assert.equal(inspect.Os, "linux");
    assert.equal(inspect.GraphDriver.Name, "overlay2");
    assert.ok(inspect.GraphDriver.Data.UpperDir.includes(images.diffIds[1].slice(7)));
    assert.ok(inspect.GraphDriver.Data.LowerDir.includes(images.diffIds[0].slice(7)));
    const missing = rt("image", "inspect", "nope");
    assert.equal(missing.code, 1);
    assert.equal(missing.out, "[]\n");
    assert.equal(missing.err, "corral-rt: No such image: nope\n");
  });

  test("history pairs the config's history with the layers, newest first", () => {
    const rows = jsonLines<{ ID: string; CreatedBy: string; Size: string; CreatedAt: string }>(
      ok("history", "--format", "json", TEST_IMAGE_NAME),
    );
    // umoci wrote: config (no layer), insert (layer 1), raw add-layer (layer 2).
    assert.deepEqual(
      rows.map((r) => [r.ID, r.CreatedBy, r.Size]),
      [
        [
          images.imageId.slice(7, 19),
          "umoci raw add-layer",
          formatBytes(layerSize(images.diffIds[1])),
        ],
        ["<missing>", "umoci insert", formatBytes(layerSize(images.diffIds[0]))],
        ["<missing>", "umoci config", "0B"],
      ],
    );
    assert.ok(rows.every((r) => /^\d{4}-\d\d-\d\dT/.test(r.CreatedAt)));
    const table = ok("image", "history", "--no-trunc", TEST_IMAGE_NAME).split("\n");
    assert.match(table[0] ?? "", /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
    assert.match(table[1] ?? "", new RegExp(`^${images.imageId} +.* ago +umoci raw add-layer +`));
    assert.equal(ok("history", "-q", TEST_IMAGE_NAME).split("\n").filter(Boolean).length, 3);
    assert.equal(rt("history", "nope").err, "corral-rt: No such image: nope\n");
  });

  test("save writes an archive skopeo accepts; rmi + load gives the same image back", () => {
    const file = join(runtime.base, "saved.tar");
    assert.equal(ok("save", "-o", file, TEST_IMAGE_NAME), "");

    const inspect = JSON.parse(
      execFileSync("skopeo", ["inspect", `docker-archive:${file}`], { encoding: "utf8" }),
    ) as { Layers: string[]; Architecture: string };
    assert.deepEqual(inspect.Layers, images.diffIds);
    const ociDir = join(runtime.base, "copied-oci");
    execFileSync("skopeo", [
      "--insecure-policy",
      "copy",
      "--quiet",
      `docker-archive:${file}`,
      `oci:${ociDir}:copied`,
    ]);
    const blob = (digest: string): string =>
      readFileSync(join(ociDir, "blobs/sha256", digest.slice(7)), "utf8");
    const index = JSON.parse(readFileSync(join(ociDir, "index.json"), "utf8")) as {
      manifests: Array<{ digest: string }>;
    };
    const manifest = JSON.parse(blob(index.manifests[0]?.digest ?? "")) as {
      config: { digest: string };
      layers: unknown[];
    };
    const copied = JSON.parse(blob(manifest.config.digest)) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(copied.rootfs.diff_ids, images.diffIds, "skopeo verified every layer");
    assert.equal(manifest.layers.length, 2);

    // Not a terminal: to stdout, the same bytes (a save is deterministic).
    const piped = spawnSync(process.execPath, [CLI, "save", TEST_IMAGE_NAME], {
      env: runtime.env,
      maxBuffer: 1 << 28,
    });
    assert.equal(piped.status, 0, piped.stderr.toString());
    assert.ok(piped.stdout.equals(readFileSync(file)));

    const missing = rt("save", "-o", join(runtime.base, "none.tar"), "nope");
    assert.equal(missing.code, 1);
    assert.equal(missing.err, "corral-rt: No such image: nope\n");
    assert.ok(!existsSync(join(runtime.base, "none.tar")));

    assert.match(ok("rmi", TEST_IMAGE_NAME), new RegExp(`Deleted: ${images.imageId}`));
    assert.deepEqual(storeFiles(), [], "rmi removed every layer and blob");
    assert.equal(ok("load", "-i", file), `Loaded image: ${TEST_IMAGE_NAME}\n`);
    assert.equal(ok("images", "-q", "--no-trunc"), `${images.imageId}\n`);
    assert.equal(
      ok("run", "--rm", TEST_IMAGE_NAME, "sh", "-c", "ls /data/opaque; echo ran"),
      "c\nran\n",
    );
  });

  test("image prune removes dangling images; -a all that no container uses", async () => {
    const dangling = loadedId(ok("load", "-i", await smallImage("dangling", "no name")));
    ok("load", "-i", await smallImage("tagged", "has a name"), "-t", "other:1");
    const keep = ok("create", TEST_IMAGE_NAME, "true").trim();
    assert.equal(jsonLines(ok("images", "--format", "json")).length, 3);

    const asked = rt("image", "prune");
    assert.equal(asked.code, 1);
    assert.match(asked.err, /pass -f/);
    assert.equal(asked.err.split("\n").filter(Boolean).length, 1);
    assert.equal(jsonLines(ok("images", "--format", "json")).length, 3);

    // On a terminal it asks, as Docker; anything but y keeps everything.
    const onTty = spawnSync(
      "script",
      ["-qec", `${process.execPath} ${CLI} image prune`, "/dev/null"],
      {
        env: runtime.env,
        input: "n\n",
        encoding: "utf8",
      },
    );
    assert.equal(onTty.status, 0, onTty.stdout);
    assert.match(
      onTty.stdout,
      /WARNING! This will remove all dangling images\.[^]*Are you sure you want to continue\? \[y\/N\]/,
    );
    assert.doesNotMatch(onTty.stdout, /Deleted/);
    assert.equal(jsonLines(ok("images", "--format", "json")).length, 3);

    const pruned = ok("image", "prune", "-f");
    assert.match(
      pruned,
      new RegExp(`^Deleted Images:\ndeleted: ${dangling}\n\nTotal reclaimed space: \\d`),
    );
    assert.deepEqual(
      jsonLines<ImageRow>(ok("images", "--format", "json"))
        .map((r) => `${r.Repository}:${r.Tag}`)
        .sort(),
      [TEST_IMAGE_NAME, "other:1"],
    );

    const all = ok("image", "prune", "-a", "-f");
    assert.match(
      all,
      /^Deleted Images:\nuntagged: other:1\nuntagged: other@sha256:[0-9a-f]{64}\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: [1-9]/,
    );
    assert.equal(ok("images", "-q", "--no-trunc"), `${images.imageId}\n`, "the used image stays");
    assert.equal(ok("image", "prune", "-a", "-f"), "Total reclaimed space: 0B\n");
    ok("rm", keep);
  });

  test("system df adds up images, containers and volumes", () => {
    type DfRow = {
      Type: string;
      TotalCount: string;
      Active: string;
      Size: string;
      Reclaimable: string;
    };
    const df = (): Record<string, DfRow> =>
      Object.fromEntries(
        jsonLines<DfRow>(ok("system", "df", "--format", "json")).map((r) => [r.Type, r]),
      );
    const size = layerSize(images.diffIds[0]) + layerSize(images.diffIds[1]);
    let now = df();
    assert.deepEqual(now.Images, {
      Type: "Images",
      TotalCount: "1",
      Active: "0",
      Size: formatBytes(size),
      Reclaimable: `${formatBytes(size)} (100%)`,
    });
    assert.equal(now.Containers?.TotalCount, "0");
    assert.equal(now["Local Volumes"]?.TotalCount, "0");

    ok("volume", "create", "dfvol");
    const id = ok(
      "run",
      "-d",
      "-v",
      "dfvol:/data",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "head -c 1048576 /dev/zero > /big; head -c 2048 /dev/zero > /data/f; echo done > /tmp/ready; sleep 100",
    ).trim();
    for (let i = 0; i < 100 && rt("exec", id, "cat", "/tmp/ready").out !== "done\n"; i++) {
      spawnSync("sleep", ["0.1"]);
    }
    now = df();
    assert.deepEqual(now.Images, {
      Type: "Images",
      TotalCount: "1",
      Active: "1",
      Size: formatBytes(size),
      Reclaimable: "0B (0%)",
    });
    // The container's own layer: /big, /data's mountpoint and /tmp/ready (5 bytes).
    assert.deepEqual(now.Containers, {
      Type: "Containers",
      TotalCount: "1",
      Active: "1",
      Size: formatBytes(1048576 + 5),
      Reclaimable: "0B (0%)",
    });
    assert.deepEqual(now["Local Volumes"], {
      Type: "Local Volumes",
      TotalCount: "1",
      Active: "1",
      Size: "2.00KiB",
      Reclaimable: "0B (0%)",
    });
    const table = ok("system", "df");
    assert.match(table, /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE\nImages +1 +1 +/);
    const verbose = ok("system", "df", "-v");
    assert.match(
      verbose,
      /Images space usage:\n\nREPOSITORY +TAG +IMAGE ID .*CONTAINERS\ncorral-test\/busybox +latest +/,
    );
    assert.match(
      verbose,
      /Local Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\ndfvol +1 +2\.00KiB/,
    );

    ok("stop", "-t", "0", id);
    now = df();
    assert.equal(now.Containers?.Active, "0");
    assert.equal(now.Containers?.Reclaimable, `${formatBytes(1048576 + 5)} (100%)`);
    ok("rm", id);
    now = df();
    assert.equal(now["Local Volumes"]?.Reclaimable, "2.00KiB (100%)");
    ok("volume", "rm", "dfvol");
  });

  test("a pulled image lists its RepoDigest and saves to its exact layer tars", async () => {
    const registry = await startRegistry();
    try {
      // gzip layers in the registry: the store keeps no compressed blob, yet save gives the
      // uncompressed tars whose sha256 are the diff_ids.
      const ref = `${registry.host}/corral/busybox:1`;
      await pushWithSkopeo(`oci:${images.layoutDir}:latest`, ref);
      ok("pull", "-q", ref);
      const [row] = jsonLines<ImageRow>(
        ok("images", "--format", "json", `${registry.host}/corral/busybox`),
      );
      assert.match(row?.Digest ?? "", /^sha256:[0-9a-f]{64}$/);
      const file = join(runtime.base, "pulled.tar");
      ok("save", "-o", file, ref);
      const dir = join(runtime.base, "pulled");
      execFileSync("mkdir", ["-p", dir]);
      execFileSync("tar", ["-C", dir, "-xf", file]);
      for (const diffId of images.diffIds) {
        const layer = readFileSync(join(dir, "blobs/sha256", diffId.slice(7)));
        assert.equal(`sha256:${createHash("sha256").update(layer).digest("hex")}`, diffId);
      }
      assert.match(ok("rmi", ref), /^Untagged: .*:1\nUntagged: .*@sha256:[0-9a-f]{64}\n$/);
    } finally {
      await registry.stop();
    }
  });

  test("garbage collection leaves no blob or layer that no image or container uses", async () => {
    const before = storeFiles();
    const id = loadedId(ok("load", "-i", await smallImage("gc", "collect me")));
    const added = storeFiles().filter((f) => !before.includes(f));
    // A record, its layer (layer.json, tar-split, one file) and its config and manifest blobs.
    assert.equal(added.filter((f) => f.startsWith("images/")).length, 1);
    assert.equal(added.filter((f) => f.startsWith("blobs/")).length, 2);
    assert.deepEqual(
      added
        .filter((f) => f.startsWith("layers/"))
        .map((f) => f.split("/").slice(2).join("/"))
        .sort(),
      ["fs/gc.txt", "layer.json", "tar-split.json.gz"],
    );
    assert.equal(ok("rmi", id), `Deleted: ${id}\n`);
    assert.deepEqual(storeFiles(), before);

    // Every layer left belongs to an image, every blob is an image's config or manifest.
    const [inspect] = JSON.parse(ok("image", "inspect", TEST_IMAGE_NAME)) as Array<{
      RootFS: { Layers: string[] };
    }>;
    assert.deepEqual(
      readdirSync(join(storeDir(), "layers")).sort(),
      [...new Set(inspect?.RootFS.Layers.map((d) => d.slice(7)))].sort(),
    );
    assert.deepEqual(readdirSync(join(storeDir(), "tmp")), []);
  });
});
