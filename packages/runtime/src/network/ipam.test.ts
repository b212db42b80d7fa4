import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ipam } from "./ipam.js";
import { parseSubnet } from "./subnet.js";

test("leases: lowest free address, stable per container, persisted, released", () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-ipam-"));
  try {
    const file = join(dir, "ipam.json");
    const ipam = new Ipam(file, parseSubnet("10.9.0.0/29")); // hosts .1 (gateway) to .6
    assert.equal(ipam.allocate("a"), "10.9.0.2");
    assert.equal(ipam.allocate("b"), "10.9.0.3");
    assert.equal(ipam.allocate("a"), "10.9.0.2");
    ipam.flush();
    const again = new Ipam(file, parseSubnet("10.9.0.0/29"));
    assert.equal(again.allocate("c"), "10.9.0.4");
    again.release("b");
    assert.equal(again.allocate("d"), "10.9.0.3");
    again.allocate("e");
    again.allocate("f");
    assert.throws(() => again.allocate("g"), /no free address in 10.9.0.0\/29/);
    again.retain(new Set(["a"]));
    assert.deepEqual(again.leases(), { a: "10.9.0.2" });
    ipam.discard();
    again.discard();
  } finally {
    rmSync(dir, { recursive: true });
  }
});
