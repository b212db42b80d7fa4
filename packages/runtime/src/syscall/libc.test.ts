import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SyscallError, mount, lgetxattr, lsetxattr, umount2 } from "./index.js";

test("a failed call names the call, its subject and the errno", () => {
  assert.throws(
    () => umount2("/nonexistent/corral-test", 0),
    (err: unknown) =>
      err instanceof SyscallError &&
      err.code === "ENOENT" &&
      /umount \/nonexistent/.test(err.message),
  );
});

test("mount with a bad filesystem type reports ENODEV", () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-syscall-"));
  try {
    assert.throws(
      () => mount("none", dir, "no-such-fs", 0),
      /mount no-such-fs at .*: ENODEV|EPERM/,
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("xattrs round-trip and a missing one is undefined", () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-syscall-"));
  try {
    assert.equal(lgetxattr(dir, "user.corral"), undefined);
    lsetxattr(dir, "user.corral", Buffer.from("y"));
    assert.equal(lgetxattr(dir, "user.corral")?.toString(), "y");
    assert.ok(statSync(dir).isDirectory());
  } finally {
    rmSync(dir, { recursive: true });
  }
});
