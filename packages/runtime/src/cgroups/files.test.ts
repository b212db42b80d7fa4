import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RereadableFile, keptOpenBudget } from "./files.js";

const openFds = (path: string): number =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;

test("a kept-open file reads its current text each time, through one descriptor", () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-reread-"));
  try {
    const path = join(dir, "memory.stat");
    writeFileSync(path, "cache 1\nrss 2\n");
    const file = new RereadableFile(path);
    assert.equal(file.read(), "cache 1\nrss 2\n");
    writeFileSync(path, "x".repeat(40_000)); // longer than the first buffer
    assert.equal(file.read(), "x".repeat(40_000));
    writeFileSync(path, "short\n");
    assert.equal(file.read(), "short\n");
    assert.equal(openFds(path), 1);
    file.close();
    assert.equal(openFds(path), 0);
    assert.equal(new RereadableFile(join(dir, "pids.max")).read(), undefined, "missing");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("files kept open: half the soft open-files limit", () => {
  const limits =
    "Limit                     Soft Limit           Hard Limit           Units     \n" +
    "Max open files            1024                 524288               files     \n";
  assert.equal(keptOpenBudget(limits), 512);
  assert.equal(
    keptOpenBudget("Max open files            unlimited            unlimited            files\n"),
    Infinity,
  );
  assert.equal(keptOpenBudget(""), 0);
});
