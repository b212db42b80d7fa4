import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionLostError, connectionLost, isConnectionDrop } from "./client.js";

// How Node reports a daemon that went away mid-request, each seen with corral-rtd killed.
const drops = [
  Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
  Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
  Object.assign(new Error("write EPIPE"), { code: "EPIPE" }),
  Object.assign(new Error("aborted"), { code: "ECONNRESET" }),
];

test("every dropped connection is one line saying whether the operation may have happened", () => {
  for (const drop of drops) {
    assert.ok(isConnectionDrop(drop), drop.message);
    const change = connectionLost(drop, "POST", "/v1/containers/x/start") as Error;
    assert.ok(change instanceof ConnectionLostError);
    assert.equal(
      change.message,
      `lost the connection to corral-rtd (${drop.message}); the operation may have happened: check with corral-rt ps -a`,
    );
    const read = connectionLost(drop, "GET", "/v1/containers") as Error;
    assert.match(read.message, /; nothing was changed: try again$/);
    const image = connectionLost(drop, "DELETE", "/v1/images/busybox") as Error;
    assert.match(image.message, /check with corral-rt images$/);
    assert.ok(!change.message.includes("\n"));
  }
});

test("other errors pass through as they are", () => {
  const refused = Object.assign(new Error("connect ENOENT /run/corral/rtd.sock"), {
    code: "ENOENT",
  });
  assert.equal(connectionLost(refused, "POST", "/v1/containers"), refused);
  const already = connectionLost(drops[0], "POST", "/v1/x");
  assert.equal(connectionLost(already, "GET", "/v1/y"), already);
});
