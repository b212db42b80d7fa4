import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../client/client.js";
import { ExitError, removedBeforeStart } from "./common.js";

const id = "0123456789abcdef".repeat(4);

test("run --rm whose container went with a daemon restart says so in one line", () => {
  // As the start route (ApiError) and the attach stream's error frame (ExitError) report it.
  for (const gone of [
    new ApiError(404, `No such container: ${id}`),
    new ExitError(`No such container: ${id}`, 125),
  ]) {
    const said = removedBeforeStart(gone, id);
    assert.ok(said instanceof ExitError);
    assert.equal(said.code, 125);
    assert.equal(
      said.message,
      "container 0123456789ab was removed when corral-rtd restarted before starting it (--rm): nothing ran; run it again",
    );
  }
});

test("any other failure of the start passes through as it is", () => {
  const other = new ExitError(`No such container: ${id.slice(0, 12)}`, 125);
  assert.equal(removedBeforeStart(other, id), other);
  const failed = new ApiError(409, "exec: not found", 127);
  assert.equal(removedBeforeStart(failed, id), failed);
});
