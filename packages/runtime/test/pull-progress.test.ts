// `corral-rt pull` progress as a person sees it: bars redrawn in place on a real terminal
// (util-linux `script` gives the CLI a pseudo-terminal), plain lines into a pipe.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { buildTestImages, TEST_IMAGE_NAME } from "./fixtures/images.js";
import { pushWithSkopeo, startRegistry, type TestRegistry } from "./fixtures/registry.js";
import { CLI, startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
let registry: TestRegistry;
let ref: string;
let layerIds: string[];

/** Runs the CLI on a 120-column pseudo-terminal; returns everything it wrote to it. */
function onTerminal(...args: string[]): { code: number; screen: string } {
  const command = ["stty cols 120 rows 40;", process.execPath, CLI, ...args].join(" ");
  const r = spawnSync("script", ["-qfec", command, "/dev/null"], {
    env: runtime.env,
    encoding: "utf8",
    timeout: 60000,
  });
  // ESC shown as text: readable in a failure message, and matched without control characters.
  return { code: r.status ?? -1, screen: r.stdout.replaceAll("\x1b", "<ESC>") };
}

describe("pull progress", () => {
  before(async () => {
    runtime = await startRuntime("pull-progress");
    registry = await startRegistry();
    const images = await buildTestImages(join(runtime.base, "push"));
    ref = `${registry.host}/corral/progress:latest`;
    await pushWithSkopeo(`oci:${images.layoutDir}:latest`, ref);
    const manifest = (await (
      await fetch(`http://${registry.host}/v2/corral/progress/manifests/latest`, {
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      })
    ).json()) as { layers: { digest: string }[] };
    layerIds = manifest.layers.map((l) => l.digest.slice(7, 19));
    // The runtime starts with this same image loaded: without it, every layer downloads.
    assert.equal(runtime.rt("rmi", TEST_IMAGE_NAME).code, 0);
  });
  after(async () => {
    await registry.stop();
    runtime.cleanup();
  });

  test("on a terminal each layer gets a bar, redrawn in place, then Pull complete", () => {
    const r = onTerminal("pull", ref);
    assert.equal(r.code, 0, r.screen);
    for (const id of layerIds) {
      assert.match(r.screen, new RegExp(`\\r<ESC>\\[2K${id}: Downloading \\[>? *\\] +0B/`));
      assert.match(r.screen, new RegExp(`\\r<ESC>\\[2K${id}: Pull complete\\r?\\n`));
    }
    // Redraws go back up over the board instead of printing new lines.
    assert.match(r.screen, /<ESC>\[\d+A/);
    assert.match(r.screen, /Digest: sha256:[0-9a-f]{64}\r?\nStatus: Downloaded newer image for /);

    const again = onTerminal("pull", ref);
    assert.equal(again.code, 0, again.screen);
    for (const id of layerIds) assert.match(again.screen, new RegExp(`${id}: Already exists`));
    assert.match(again.screen, /Status: Image is up to date/);
  });

  test("into a pipe: plain lines, no escape sequences", () => {
    assert.equal(runtime.rt("rmi", ref).code, 0);
    const r = runtime.rt("pull", ref);
    assert.equal(r.code, 0, r.err);
    assert.ok(!r.err.includes("\x1b"), r.err);
    const lines = r.err.trim().split("\n");
    assert.deepEqual(
      lines
        .slice(0, layerIds.length)
        .map((l) => l.replace(/ \(.*\)$/, ""))
        .sort(),
      layerIds.map((id) => `${id}: Pull complete`).sort(),
    );
    assert.match(lines.at(-1) ?? "", /^Status: Downloaded newer image for /);
  });
});
