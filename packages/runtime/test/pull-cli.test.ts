// `corral-rt pull` and run's pull of a missing image, against Debian's docker-registry on
// 127.0.0.1 holding the test image.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildTestImages } from "./fixtures/images.js";
import { pushWithSkopeo, startRegistry, type TestRegistry } from "./fixtures/registry.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
let registry: TestRegistry;

describe("pull from a registry", () => {
  before(async () => {
    runtime = await startRuntime("pull");
    registry = await startRegistry();
    const images = await buildTestImages(join(runtime.base, "push"));
    await pushWithSkopeo(
      `oci:${images.layoutDir}:latest`,
      `${registry.host}/corral/busybox:latest`,
    );
    await pushWithSkopeo(`oci:${images.layoutDir}:latest`, `${registry.host}/corral/other:1`);
  });
  after(async () => {
    await registry.stop();
    runtime.cleanup();
  });

  test("pull prints each layer and registers the image; a second pull downloads nothing", () => {
    const ref = `${registry.host}/corral/busybox:latest`;
    const first = runtime.rt("pull", ref);
    assert.equal(first.code, 0, first.err);
    assert.match(first.err, /: (Pull complete|Already exists)/);
    assert.match(first.err, /Digest: sha256:[0-9a-f]{64}/);
    assert.match(
      runtime.rt("images").out,
      new RegExp(`${registry.host.replace(/\./g, "\\.")}/corral/busybox\\s+latest`),
    );
    const again = runtime.rt("pull", ref);
    assert.equal(again.code, 0, again.err);
    assert.doesNotMatch(again.err, /Pull complete/);
    assert.equal(runtime.rt("run", "--rm", ref, "cat", "/etc/hostname").code, 0);
  });

  test("run pulls an image it does not have, as Docker does", () => {
    const ref = `${registry.host}/corral/other:1`;
    const r = runtime.rt("run", "--rm", ref, "echo", "pulled and ran");
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`^Unable to find image '${ref.replace(/\./g, "\\.")}' locally`));
    assert.equal(r.out, "pulled and ran\n");
  });

  test("an unknown tag is a one-line error", () => {
    const r = runtime.rt("pull", `${registry.host}/corral/busybox:nope`);
    assert.equal(r.code, 1);
    assert.match(r.err, /not found/);
    assert.equal(r.err.trim().split("\n").length, 1);
  });
});
