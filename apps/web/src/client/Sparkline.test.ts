import assert from "node:assert/strict";
import { test } from "node:test";
import { sparkPoints } from "./Sparkline.tsx";

test("a sparkline spans the width, 0 at the bottom and max at the top, clamped", () => {
  assert.equal(sparkPoints([0, 50, 100, 200], 100, 30, 12), "0.0,11.0 10.0,6.0 20.0,1.0 30.0,1.0");
  assert.equal(sparkPoints([5], 100, 30, 12), "", "one point is no line");
  assert.equal(sparkPoints([1, 2], 0, 30, 12), "");
});
