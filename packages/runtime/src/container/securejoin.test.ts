import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secureJoin } from "./securejoin.js";

test("symlinks resolve inside the root, never outside it", () => {
  const root = mkdtempSync(join(tmpdir(), "corral-sj-"));
  try {
    mkdirSync(join(root, "usr/lib"), { recursive: true });
    symlinkSync("/usr/lib", join(root, "lib"));
    symlinkSync("/etc", join(root, "evil"));
    symlinkSync("../../../../..", join(root, "up"));
    assert.equal(secureJoin(root, "/lib/x"), join(root, "usr/lib/x"));
    assert.equal(secureJoin(root, "/evil/passwd"), join(root, "etc/passwd"));
    assert.equal(secureJoin(root, "/up/etc/shadow"), join(root, "etc/shadow"));
    assert.equal(secureJoin(root, "/../../a/./b"), join(root, "a/b"));
  } finally {
    rmSync(root, { recursive: true });
  }
});

test("a symlink loop is an error, not a hang", () => {
  const root = mkdtempSync(join(tmpdir(), "corral-sj-"));
  try {
    symlinkSync("/b", join(root, "a"));
    symlinkSync("/a", join(root, "b"));
    assert.throws(() => secureJoin(root, "/a/x"), /too many levels/);
  } finally {
    rmSync(root, { recursive: true });
  }
});
