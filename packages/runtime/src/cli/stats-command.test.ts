import { test } from "node:test";
import assert from "node:assert/strict";
import { humanSize } from "./stats-command.js";

test("sizes in Docker's decimal units with three significant digits", () => {
  assert.equal(humanSize(0), "0B");
  assert.equal(humanSize(648), "648B");
  assert.equal(humanSize(1234), "1.23kB");
  assert.equal(humanSize(56_700_000), "56.7MB");
  assert.equal(humanSize(2e9), "2GB");
});
