import { test } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LogKeeper } from "./log-keeper.js";
import { currentHeader, indexPath, LineTimes, RECORD_BYTES, HEADER_BYTES } from "./log-index.js";
import { rotatedPath } from "./log-index.js";

const records = (log: string): number =>
  (statSync(indexPath(log)).size - HEADER_BYTES) / RECORD_BYTES;

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-keeper-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true });
    }
  };
}

test(
  "one record per scan at its first line start, partial lines carried, resumed after a restart",
  withDir(async (dir) => {
    const log = join(dir, "console.log");
    const keeper = new LogKeeper();
    writeFileSync(log, "one\ntw");
    keeper.watch("c1", log);
    assert.equal(records(log), 1);
    await new Promise((r) => setTimeout(r, 5));
    appendFileSync(log, "o\nthree\nfour\n");
    keeper.indexed(log); // a scan: "three" is the first line to start in the new bytes
    keeper.unwatch("c1");
    assert.equal(records(log), 2);
    const times = new LineTimes(log);
    const first = times.timeOf(0);
    assert.equal(times.timeOf(4), first, "the rest of a line seen earlier keeps its time");
    assert.ok((times.timeOf(8) ?? 0) > (first ?? Infinity));
    assert.equal(times.timeOf(14), times.timeOf(8), "lines of one scan share its time");
    times.close();
    assert.deepEqual(currentHeader(log), { base: 0, scanned: 19 });
    // A restarted daemon resumes where the last one stopped: nothing to add.
    keeper.watch("c1", log);
    keeper.unwatch("c1");
    assert.equal(records(log), 2);
  }),
);

test(
  "rotation cuts whole blocks into console.log.1, keeps max-file files, drops older records",
  withDir((dir) => {
    const log = join(dir, "console.log");
    const keeper = new LogKeeper();
    const lines = (from: number, to: number): string => {
      let s = "";
      for (let i = from; i < to; i++) s += `line ${i}\n`;
      return s;
    };
    writeFileSync(log, "");
    keeper.watch("c1", log, { maxBytes: 8192, maxFiles: 3 });
    let n = 0;
    for (let round = 0; round < 6; round++) {
      appendFileSync(log, lines(n, n + 1000));
      n += 1000;
      keeper.indexed(log);
    }
    keeper.unwatch("c1");
    assert.ok(statSync(log).size < 8192 + 4096);
    assert.equal(statSync(rotatedPath(log, 1)).size % 4096, 0);
    assert.throws(() => statSync(rotatedPath(log, 3)), /ENOENT/);
    const all = [rotatedPath(log, 2), rotatedPath(log, 1), log]
      .map((f) => readFileSync(f, "utf8"))
      .join("");
    assert.ok(lines(0, n).endsWith(all), "the kept files are the log's end, in order");
    const header = currentHeader(log);
    assert.equal(header?.scanned, Buffer.byteLength(lines(0, n)));
    assert.equal(
      header?.base,
      Buffer.byteLength(lines(0, n)) - statSync(log).size,
      "the live file's base is where it sits in the whole log",
    );
  }),
);
