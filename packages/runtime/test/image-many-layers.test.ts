// An image of 125 layers (Docker's limit) runs: the overlay mount's options name each layer by
// a short link, so they fit in the one page the kernel copies. Its top layer's files are seen
// and a whiteout deep in the stack hides a file of a layer below it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeTar } from "./fixtures/archives.js";
import { buildTestImages, imageWithLayers } from "./fixtures/images.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

const LAYERS = 125;
let runtime: TestRuntime;

before(async () => {
  runtime = await startRuntime("many-layers");
});

after(() => runtime?.cleanup());

test(`an image of ${LAYERS} layers runs with every layer in place`, async () => {
  const images = await buildTestImages(join(runtime.base, "images"));
  const added: Buffer[] = [];
  // The busybox image has 2 layers; layer n (from 3) adds /layers/n, layer 3 also /data/x,
  // which layer 60 whites out.
  for (let n = 3; n <= LAYERS; n++) {
    added.push(
      await makeTar([
        { header: { name: `layers/${n}` }, content: `${n}\n` },
        ...(n === 3 ? [{ header: { name: "data/x" }, content: "x\n" }] : []),
        ...(n === 60 ? [{ header: { name: "data/.wh.x" }, content: "" }] : []),
      ]),
    );
  }
  const archive = await imageWithLayers(images, join(runtime.base, "tall-image"), added);
  const loaded = runtime.rt("load", "-i", archive, "-t", "corral-test/tall:1");
  assert.equal(loaded.code, 0, loaded.err);
  const inspected = JSON.parse(runtime.rt("image", "inspect", "corral-test/tall:1").out) as [
    { RootFS: { Layers: string[] } },
  ];
  assert.equal(inspected[0].RootFS.Layers.length, LAYERS);

  const r = runtime.rt(
    "run",
    "--rm",
    "corral-test/tall:1",
    "sh",
    "-c",
    `cat /layers/${LAYERS}; ls /layers | wc -l; test -e /data/x && echo x still there; test -e /etc/gone || echo gone`,
  );
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `${LAYERS}\n${LAYERS - 2}\ngone\n`);
});
