// writeFileAtomicSync on a nearly full filesystem (a small tmpfs mounted here): the new content
// whole, or an error and the old file as it was, never a torn file.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomicSync } from "../src/util/atomic-file.js";

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "corral-atomic-"));
  const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir], {
    encoding: "utf8",
  });
  assert.equal(m.status, 0, m.stderr);
});

after(() => {
  spawnSync("umount", [dir]);
  rmSync(dir, { recursive: true, force: true });
});

test("a write that does not fit fails and keeps the old file", () => {
  const target = join(dir, "state.json");
  const old = JSON.stringify({ old: "x".repeat(1000) });
  writeFileAtomicSync(target, old);
  // Leave ~100 KiB free: a 512 KiB write gets a short count first, then ENOSPC.
  writeFileSync(join(dir, "filler"), Buffer.alloc(1024 * 1024 - 100 * 1024 - 8192));
  assert.throws(() => writeFileAtomicSync(target, "y".repeat(512 * 1024)), /ENOSPC/);
  assert.equal(readFileSync(target, "utf8"), old);
  assert.deepEqual(readdirSync(dir).sort(), ["filler", "state.json"], "no temp file left");
  // With room again, the new content goes in whole.
  rmSync(join(dir, "filler"));
  writeFileAtomicSync(target, "y".repeat(512 * 1024));
  assert.equal(readFileSync(target, "utf8").length, 512 * 1024);
});
