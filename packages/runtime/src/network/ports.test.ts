import { test } from "node:test";
import assert from "node:assert/strict";
import { PortReservations } from "./ports.js";

test("reservations hold ports, refuse a taken one and release on failure", async () => {
  const ports = new PortReservations();
  try {
    const [got] = await ports.reserve("a", [
      { hostIp: "127.0.0.1", hostPort: 0, containerPort: 80, protocol: "tcp" },
    ]);
    assert.ok(got && got.hostPort > 0);
    await assert.rejects(
      ports.reserve("b", [
        { hostIp: "127.0.0.1", hostPort: 0, containerPort: 81, protocol: "udp" },
        { hostIp: "127.0.0.1", hostPort: got.hostPort, containerPort: 80, protocol: "tcp" },
      ]),
      new RegExp(`Bind for 127\\.0\\.0\\.1:${got.hostPort} failed: port is already allocated`),
    );
    ports.release("a");
    const [again] = await ports.reserve("b", [{ ...got }]);
    assert.equal(again?.hostPort, got.hostPort, "released ports can be taken again");
  } finally {
    ports.close();
  }
});
