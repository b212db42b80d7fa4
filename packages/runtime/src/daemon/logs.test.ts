import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tailOffset } from "./logs.js";

test("tail finds where the last N lines start", () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-logs-"));
  try {
    const file = join(dir, "log");
    writeFileSync(file, "one\ntwo\nthree\n");
    assert.equal(tailOffset(file, 1), 8);
    assert.equal(tailOffset(file, 2), 4);
    assert.equal(tailOffset(file, 3), 0);
    assert.equal(tailOffset(file, 10), 0);
    assert.equal(tailOffset(file, 0), 14);
    assert.equal(tailOffset(file, -1), 0);
    writeFileSync(file, "one\ntwo\npartial");
    assert.equal(tailOffset(file, 1), 8);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
