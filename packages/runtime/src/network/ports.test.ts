import { test } from "node:test";
import assert from "node:assert/strict";
import { UserError } from "../util/errors.js";
import { PortReservations } from "./ports.js";

test("reservations hold ports, refuse a taken one and release on failure", async () => {
  const ports = new PortReservations();
  const web = { id: "0123456789abcdef0123", name: "web-1" };
  try {
    const [got] = await ports.reserve(web, [
      { hostIp: "127.0.0.1", hostPort: 0, containerPort: 80, protocol: "tcp" },
    ]);
    assert.ok(got && got.hostPort > 0);
    const refused = await ports
      .reserve({ id: "b", name: "api" }, [
        { hostIp: "127.0.0.1", hostPort: 0, containerPort: 81, protocol: "udp" },
        { hostIp: "127.0.0.1", hostPort: got.hostPort, containerPort: 80, protocol: "tcp" },
      ])
      .then(
        () => assert.fail("a taken port was reserved twice"),
        (e: unknown) => e,
      );
    // A conflict (409), one line naming the holder as the user knows it and what to do.
    assert.ok(refused instanceof UserError);
    assert.equal(refused.status, 409);
    assert.equal(
      refused.message,
      `Bind for 127.0.0.1:${got.hostPort} failed: port is already allocated by container web-1 (0123456789ab) on this host: choose another host port`,
    );
    ports.release(web.id);
    const [again] = await ports.reserve({ id: "b", name: "api" }, [{ ...got }]);
    assert.equal(again?.hostPort, got.hostPort, "released ports can be taken again");
  } finally {
    ports.close();
  }
});
