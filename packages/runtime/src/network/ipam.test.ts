import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ipam } from "./ipam.js";
import { parseSubnet } from "./subnet.js";

function withDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "corral-ipam-"));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true });
  }
}

test("leases: round-robin, stable per container, persisted, released", () =>
  withDir((dir) => {
    const file = join(dir, "ipam.json");
    const ipam = new Ipam(file, parseSubnet("10.9.0.0/29")); // hosts .1 (gateway) to .6
    assert.equal(ipam.allocate("a"), "10.9.0.2");
    assert.equal(ipam.allocate("b"), "10.9.0.3");
    assert.equal(ipam.allocate("a"), "10.9.0.2");
    ipam.flush();
    const again = new Ipam(file, parseSubnet("10.9.0.0/29"));
    assert.equal(again.allocate("c"), "10.9.0.4", "after the last one handed out, across restarts");
    again.release("b");
    // .3 was just freed: it is reused last, after the rest of the subnet.
    assert.equal(again.allocate("d"), "10.9.0.5");
    assert.equal(again.allocate("e"), "10.9.0.6");
    assert.equal(again.allocate("f"), "10.9.0.3", "wraps around, skipping the gateway");
    assert.throws(() => again.allocate("g"), /no free address in 10.9.0.0\/29/);
    again.retain(new Set(["a"]));
    assert.deepEqual(again.leases(), { a: "10.9.0.2" });
    assert.equal(again.allocate("h"), "10.9.0.4", "retain keeps the round-robin position");
    ipam.discard();
    again.discard();
  }));

test("a torn or foreign file is rebuilt (the records restore the leases), never fatal", () =>
  withDir((dir) => {
    const file = join(dir, "ipam.json");
    for (const content of [
      "{}",
      "garbage",
      "null",
      '{"leases":[1]}',
      '{"leases":{"x":5,"y":"10.1.0.2"}}',
    ]) {
      writeFileSync(file, content);
      const ipam = new Ipam(file, parseSubnet("10.9.0.0/29"));
      ipam.claim("running", "10.9.0.2"); // what reconcile does from a running container's record
      assert.equal(ipam.allocate("new"), "10.9.0.3", content);
      assert.deepEqual(ipam.leases(), { running: "10.9.0.2", new: "10.9.0.3" }, content);
      ipam.discard();
    }
  }));
