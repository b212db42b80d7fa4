import { test } from "node:test";
import assert from "node:assert/strict";
import { renderRuleset } from "./nftables.js";

test("the ruleset replaces Corral's table atomically and holds NAT, ports and isolation", () => {
  const text = renderRuleset({
    table: "corral",
    networks: [
      { bridge: "corral0", subnet: "172.17.0.0/16", gateway: "172.17.0.1" },
      { bridge: "corral-1234abcd", subnet: "172.18.0.0/16", gateway: "172.18.0.1" },
    ],
    ports: [
      {
        binding: { hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, protocol: "tcp" },
        containerIp: "172.17.0.2",
      },
      {
        binding: { hostIp: "", hostPort: 5353, containerPort: 53, protocol: "udp" },
        containerIp: "172.18.0.2",
      },
    ],
  });
  const lines = text.split("\n").map((l) => l.trim());
  assert.deepEqual(lines.slice(0, 3), [
    "table ip corral",
    "delete table ip corral",
    "table ip corral {",
  ]);
  assert.ok(lines.includes("ip daddr 127.0.0.1 tcp dport 8080 dnat to 172.17.0.2:80"));
  assert.ok(lines.includes("udp dport 5353 dnat to 172.18.0.2:53"));
  assert.ok(lines.includes('ip saddr 172.17.0.0/16 oifname != "corral0" masquerade'));
  assert.ok(
    lines.includes(
      'iifname "corral0" oifname { "corral0", "corral-1234abcd" } oifname != "corral0" drop',
    ),
  );
  assert.ok(lines.some((l) => l.startsWith("iifname {") && l.includes("127.0.0.0/8")));
  assert.ok(
    lines.includes(
      'iifname "corral0" ip saddr 172.17.0.0/16 ip daddr 172.17.0.0/16 ip daddr != 172.17.0.1 notrack',
    ),
  );
});
