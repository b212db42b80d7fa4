import { test } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LogKeeper, readLineTimes, rotatedPath, timeAt } from "./log-keeper.js";

test("timeAt finds the line that holds an offset", () => {
  const index = [
    { offset: 0, time: "a" },
    { offset: 10, time: "b" },
    { offset: 25, time: "c" },
  ];
  assert.equal(timeAt(index, 0), "a");
  assert.equal(timeAt(index, 9), "a");
  assert.equal(timeAt(index, 10), "b");
  assert.equal(timeAt(index, 99), "c");
  assert.equal(timeAt([], 5), undefined);
});

test("each line start is indexed once, partial lines included, and big logs rotate", () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-keeper-"));
  const log = join(dir, "console.log");
  const keeper = new LogKeeper();
  try {
    writeFileSync(log, "one\ntw");
    keeper.watch("c1", log, 64);
    appendFileSync(log, "o\nthree\n");
    keeper.unwatch("c1");
    assert.deepEqual(
      readLineTimes(log).map((e) => e.offset),
      [0, 4, 8],
    );
    keeper.watch("c1", log, 64);
    appendFileSync(log, "x".repeat(100) + "\n");
    keeper.unwatch("c1");
    assert.equal(statSync(log).size, 0);
    assert.ok(readFileSync(rotatedPath(log), "utf8").endsWith("x\n"));
    assert.ok(existsSync(`${rotatedPath(log)}.times`));
  } finally {
    keeper.close();
    rmSync(dir, { recursive: true });
  }
});
