import { test } from "node:test";
import assert from "node:assert/strict";
import { FRAME, FrameDecoder, encodeFrame } from "./attach.js";

test("frames survive any split of the byte stream", () => {
  const bytes = Buffer.concat([
    encodeFrame(FRAME.data, "hello"),
    encodeFrame(FRAME.resize, JSON.stringify({ cols: 80, rows: 24 })),
    encodeFrame(FRAME.exit, "0"),
  ]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = new FrameDecoder();
    const frames = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
    assert.deepEqual(
      frames.map((f) => [f.type, f.payload.toString()]),
      [
        [FRAME.data, "hello"],
        [FRAME.resize, '{"cols":80,"rows":24}'],
        [FRAME.exit, "0"],
      ],
    );
  }
});

test("garbage is refused, not buffered forever", () => {
  assert.throws(
    () => new FrameDecoder().push(Buffer.from([9, 0, 0, 0, 1, 0])),
    /corrupt attach stream/,
  );
  assert.throws(() => new FrameDecoder().push(Buffer.from([1, 255, 255, 255, 255])), /corrupt/);
});
