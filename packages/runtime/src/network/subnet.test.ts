import { test } from "node:test";
import assert from "node:assert/strict";
import {
  formatIp,
  formatSubnet,
  gatewayOf,
  overlaps,
  parseIp,
  parseSubnet,
  pickSubnet,
  routeSubnets,
} from "./subnet.js";

test("addresses and subnets round-trip", () => {
  assert.equal(formatIp(parseIp("172.17.0.1")), "172.17.0.1");
  assert.equal(formatIp(parseIp("255.255.255.255")), "255.255.255.255");
  assert.equal(formatSubnet(parseSubnet("10.1.0.0/16")), "10.1.0.0/16");
  assert.equal(formatIp(gatewayOf(parseSubnet("172.18.0.0/16"))), "172.18.0.1");
  assert.throws(() => parseIp("1.2.3.256"), /invalid IPv4/);
  assert.throws(
    () => parseSubnet("10.1.2.3/16"),
    /host bits are set \(did you mean 10.1.0.0\/16\?\)/,
  );
  assert.throws(() => parseSubnet("10.0.0.0/31"), /prefix from \/8 to \/30/);
});

test("a bridge subnet avoids every host route", () => {
  assert.ok(overlaps(parseSubnet("172.16.0.0/12"), parseSubnet("172.17.0.0/16")));
  assert.ok(!overlaps(parseSubnet("172.17.0.0/16"), parseSubnet("172.18.0.0/16")));
  const routes = routeSubnets([
    { dst: "default" },
    { dst: "172.17.0.0/16" },
    { dst: "172.18.5.9" },
    { dst: "fe80::/64" },
  ]);
  assert.equal(formatSubnet(pickSubnet(routes)), "172.19.0.0/16");
  assert.throws(
    () => pickSubnet([parseSubnet("172.16.0.0/12"), parseSubnet("192.168.0.0/16")]),
    /no free subnet/,
  );
});
