import assert from "node:assert/strict";
import { test } from "node:test";
import { parseNetDev } from "./stats.js";

test("net/dev: every interface but lo is summed", () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    1500      10    0    0    0     0          0         0      700       5    0    0    0     0       0          0
  eth1:      20       1    0    0    0     0          0         0       30       1    0    0    0     0       0          0
`;
  assert.deepEqual(parseNetDev(text), { rx: 1520, tx: 730 });
  assert.deepEqual(parseNetDev(""), { rx: 0, tx: 0 });
});
