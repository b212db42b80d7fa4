// push to Debian's docker-registry on 127.0.0.1: the test image goes up, skopeo sees what was
// pushed, a second fresh runtime pulls it and runs a container from it (whiteouts and the
// opaque directory intact), and pushing the pulled image again uploads nothing and gives the
// same manifest digest (layers are packed deterministically).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildTestImages, type TestImages } from "./fixtures/images.js";
import { startRegistry, type TestRegistry } from "./fixtures/registry.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

const run = promisify(execFile);

let first: TestRuntime;
let second: TestRuntime | undefined;
let registry: TestRegistry;
let images: TestImages;
let name: string;
let pushedDigest: string;

before(async () => {
  first = await startRuntime("registry-push");
  registry = await startRegistry();
  images = await buildTestImages(join(first.base, "images"));
  name = `${registry.host}/corral/pushed:1`;
  const loaded = first.rt("load", "-i", images.ociArchive, "-t", name);
  assert.equal(loaded.code, 0, loaded.err);
});

after(async () => {
  first?.cleanup();
  second?.cleanup();
  await registry?.stop();
});

interface Inspected {
  Digest: string;
  Layers: string[];
  Env: string[];
}

test("push uploads the image; skopeo inspects it", async () => {
  const r = first.rt("push", name);
  assert.equal(r.code, 0, r.err);
  const m = /^1: digest: (sha256:[a-f0-9]{64}) size: (\d+)\n$/.exec(r.out);
  assert.ok(m, r.out);
  pushedDigest = m[1] as string;
  assert.match(
    r.err,
    new RegExp(`^The push refers to repository \\[${registry.host}/corral/pushed\\]\n`),
  );
  assert.equal(r.err.match(/: Pushed \(/g)?.length, 2, r.err);

  const { stdout } = await run("skopeo", ["inspect", "--tls-verify=false", `docker://${name}`]);
  const inspected = JSON.parse(stdout) as Inspected;
  assert.equal(inspected.Digest, pushedDigest);
  assert.equal(inspected.Layers.length, 2);
  assert.deepEqual(inspected.Env, images.env);
  const raw = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${name}`]);
  const manifest = JSON.parse(raw.stdout) as { mediaType: string; layers: { mediaType: string }[] };
  // The image came as OCI: it goes up as OCI, with gzip layers.
  assert.equal(manifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
  assert.deepEqual(
    manifest.layers.map((l) => l.mediaType),
    Array(2).fill("application/vnd.oci.image.layer.v1.tar+gzip"),
  );
});

test("a fresh runtime pulls the pushed image and runs it; pushing it again uploads nothing", async () => {
  assert.ok(pushedDigest, "needs the push above");
  second = await startRuntime("registry-push-2");
  const pulled = second.rt("pull", name);
  assert.equal(pulled.code, 0, pulled.err);
  assert.match(pulled.err, new RegExp(`Digest: ${pushedDigest}`));
  // The exact layer tars went up (not re-packed ones): the image keeps its id.
  const idOf = (rt: TestRuntime): string =>
    (JSON.parse(rt.rt("image", "inspect", name).out) as [{ Id: string }])[0].Id;
  assert.equal(idOf(second), idOf(first));
  const c = second.rt(
    "run",
    "--rm",
    "--network",
    "none",
    name,
    "sh",
    "-c",
    "ls /data/opaque; test -e /etc/gone || echo gone; id -un; ls -ld /tmp | cut -c1-10",
  );
  assert.equal(c.code, 0, c.err);
  assert.equal(c.out, "c\ngone\nroot\ndrwxrwxrwt\n");

  const again = second.rt("push", name);
  assert.equal(again.code, 0, again.err);
  assert.equal(
    again.out,
    `1: digest: ${pushedDigest} size: ${/size: (\d+)/.exec(again.out)?.[1]}\n`,
  );
  assert.equal(again.err.match(/Layer already exists/g)?.length, 2, again.err);
  assert.doesNotMatch(again.err, /Pushed|packed anew/);
});

test("push of an image that is not here, or of a digest, is refused in one line", () => {
  const missing = first.rt("push", `${registry.host}/corral/nothing:1`);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.err,
    `corral-rt: An image does not exist locally with the tag: ${registry.host}/corral/nothing:1\n`,
  );
  const digest = first.rt(
    "push",
    `${registry.host}/corral/pushed@${pushedDigest || `sha256:${"0".repeat(64)}`}`,
  );
  assert.equal(digest.code, 1);
  assert.match(digest.err, /^corral-rt: invalid tag .*not a digest reference\n$/);
});
