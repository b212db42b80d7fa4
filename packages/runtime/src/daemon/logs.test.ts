import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { LogReader, streamLog } from "./logs.js";
import { LogKeeper } from "./log-keeper.js";
import { indexPath, rotatedPath } from "./log-index.js";

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-logs-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true });
    }
  };
}

async function collect(path: string, tail: number, timestamps = false): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(Buffer.from(c))); // the reader reuses its buffers
  await streamLog(path, out, { follow: false, tail, timestamps, stopped: async () => undefined });
  return Buffer.concat(chunks).toString();
}

test(
  "tail finds where the last N lines start",
  withDir((dir) => {
    const file = join(dir, "log");
    writeFileSync(file, "one\ntwo\nthree\n");
    const r = new LogReader(file, false);
    assert.equal(r.tailStart(1), 8);
    assert.equal(r.tailStart(2), 4);
    assert.equal(r.tailStart(3), 0);
    assert.equal(r.tailStart(10), 0);
    assert.equal(r.tailStart(0), 14);
    assert.equal(r.tailStart(-1), 0);
    writeFileSync(file, "one\ntwo\npartial");
    assert.equal(r.tailStart(1), 8);
    r.close();
  }),
);

test(
  "a log split by rotation (a line across two files) reads, tails and stamps as one",
  withDir(async (dir) => {
    const log = join(dir, "console.log");
    writeFileSync(log, "");
    const keeper = new LogKeeper();
    keeper.watch("c", log, { maxBytes: 4096, maxFiles: 5 });
    let expected = "";
    for (let i = 0; i < 3000; i++) {
      const line = `${i}\n`;
      appendFileSync(log, line);
      expected += line;
      if (i % 500 === 0) keeper.indexed(log);
    }
    keeper.unwatch("c");
    assert.ok(existsSync(rotatedPath(log, 2)), "rotated more than once");
    const all = await collect(log, -1);
    assert.ok(expected.endsWith(all) && all.length > 8192, "the kept files, in order");
    assert.equal(await collect(log, 3), "2997\n2998\n2999\n");
    const lines = all.split("\n").filter(Boolean);
    const stamped = (await collect(log, -1, true)).split("\n").filter(Boolean);
    assert.equal(stamped.length, lines.length);
    let previous = "";
    stamped.forEach((l, i) => {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (.*)$/.exec(l);
      assert.ok(m, l);
      assert.equal(m[2], lines[i]);
      assert.ok((m[1] as string) >= previous, "times never go back");
      previous = m[1] as string;
    });
  }),
);

test(
  "the previous release's text index is converted, rotated file included",
  withDir(async (dir) => {
    const log = join(dir, "console.log");
    writeFileSync(rotatedPath(log), "a\nb\n");
    writeFileSync(
      `${rotatedPath(log)}.times`,
      "0 2020-01-01T00:00:00.000Z\n2 2020-01-01T00:00:01.000Z\n",
    );
    writeFileSync(log, "c\nd\n");
    writeFileSync(`${log}.times`, "0 2020-01-01T00:00:02.000Z\n2 2020-01-01T00:00:02.000Z\n");
    assert.equal(
      await collect(log, -1, true),
      [
        "2020-01-01T00:00:00.000Z a",
        "2020-01-01T00:00:01.000Z b",
        "2020-01-01T00:00:02.000Z c",
        "2020-01-01T00:00:02.000Z d",
        "",
      ].join("\n"),
    );
    assert.ok(!existsSync(`${log}.times`) && !existsSync(`${rotatedPath(log)}.times`));
    assert.ok(existsSync(indexPath(log)));
  }),
);

test(
  "a client that stops reading and goes away ends a followed stream",
  withDir(async (dir) => {
    const log = join(dir, "console.log");
    writeFileSync(log, "x".repeat(1023) + "\n");
    for (let i = 0; i < 10; i++) appendFileSync(log, Buffer.alloc(1024 * 1024, "y\n"));
    // A client that never takes anything: the first write fills its buffer.
    const out = new Writable({ highWaterMark: 1024, write: () => undefined });
    const done = streamLog(log, out, {
      follow: true,
      tail: -1,
      timestamps: true,
      stopped: () => new Promise(() => undefined), // runs for ever
    });
    await new Promise((r) => setTimeout(r, 20));
    out.destroy();
    await done; // before the fix: waited for 'drain' for ever
  }),
);
