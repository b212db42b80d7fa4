import { test } from "node:test";
import assert from "node:assert/strict";
import { formatBinding, parseExposed, parsePublish } from "./port-spec.js";

test("-p forms as Docker reads them", () => {
  assert.deepEqual(parsePublish("8080:80"), [
    { hostIp: "", hostPort: 8080, containerPort: 80, protocol: "tcp" },
  ]);
  assert.deepEqual(parsePublish("127.0.0.1:53:53/udp"), [
    { hostIp: "127.0.0.1", hostPort: 53, containerPort: 53, protocol: "udp" },
  ]);
  assert.deepEqual(parsePublish("80"), [
    { hostIp: "", hostPort: 0, containerPort: 80, protocol: "tcp" },
  ]);
  assert.deepEqual(parsePublish("127.0.0.1::80"), [
    { hostIp: "127.0.0.1", hostPort: 0, containerPort: 80, protocol: "tcp" },
  ]);
  assert.deepEqual(
    parsePublish("8000-8001:80-81").map((p) => [p.hostPort, p.containerPort]),
    [
      [8000, 80],
      [8001, 81],
    ],
  );
});

test("bad -p specs are refused with what to write instead", () => {
  assert.throws(() => parsePublish("70000:80"), /invalid port "70000"/);
  assert.throws(() => parsePublish("8080:"), /use \[ip:\]\[hostPort:\]containerPort/);
  assert.throws(() => parsePublish("80/sctp"), /use \[ip:\]\[hostPort:\]containerPort/);
  assert.throws(() => parsePublish("localhost:80:80"), /give an IPv4 address/);
  assert.throws(() => parsePublish("8000-8002:80-81"), /must be the same size/);
  assert.throws(() => parsePublish("8080:80-81"), /must be the same size/);
  assert.throws(() => parsePublish("999.1.1.1:80:80"), /invalid IP address "999.1.1.1" in -p/);
  assert.throws(() => parsePublish("1.2.3:80:80"), /invalid IP address/);
  assert.throws(() => parseExposed("80/icmp"), /PORT\[\/tcp\|udp\]/);
});

test("formatBinding is ps's PORTS column", () => {
  assert.equal(
    formatBinding({ hostIp: "", hostPort: 8080, containerPort: 80, protocol: "tcp" }),
    "0.0.0.0:8080->80/tcp",
  );
});
