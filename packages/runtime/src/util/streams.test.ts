import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { whenWritable } from "./streams.js";

function stalled(): { sink: Writable; finish: () => void } {
  let pending: (() => void) | undefined;
  const sink = new Writable({
    highWaterMark: 4,
    write(_chunk, _enc, done) {
      pending = done;
    },
  });
  return { sink, finish: () => pending?.() };
}

test("resolves at once when nothing is buffered", async () => {
  await whenWritable(new Writable({ write: (_c, _e, done) => done() }));
});

test("resolves on drain", async () => {
  const { sink, finish } = stalled();
  assert.equal(sink.write(Buffer.alloc(8)), false);
  let resolved = false;
  const waiting = whenWritable(sink).then(() => (resolved = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false);
  finish();
  await waiting;
  assert.equal(resolved, true);
});

test("a stream destroyed while full ends the wait (no drain ever comes)", async () => {
  const { sink } = stalled();
  sink.write(Buffer.alloc(8));
  const waiting = whenWritable(sink);
  sink.destroy();
  await waiting;
  await whenWritable(sink); // and at once afterwards
});
