import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBytes } from "./units.js";

test("Docker's size forms", () => {
  assert.equal(parseBytes("512m", "memory"), 512 * 1024 * 1024);
  assert.equal(parseBytes("1g", "memory"), 1024 ** 3);
  assert.equal(parseBytes("100K", "memory"), 102400);
  assert.equal(parseBytes("64MiB", "memory"), 64 * 1024 * 1024);
  assert.equal(parseBytes("1.5k", "memory"), 1536);
  assert.equal(parseBytes("4096", "memory"), 4096);
});

test("nonsense is refused with what to type instead", () => {
  assert.throws(() => parseBytes("lots", "memory"), /invalid memory "lots": use a number .* 512m/);
  assert.throws(() => parseBytes("-1m", "memory"), /invalid memory/);
});
