import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetworkStore } from "./networks.js";

function withClaims(fn: (base: string) => void): void {
  const base = mkdtempSync(join(tmpdir(), "corral-claims-"));
  const before = process.env.CORRAL_SUBNET_CLAIMS;
  process.env.CORRAL_SUBNET_CLAIMS = join(base, "claims");
  try {
    fn(base);
  } finally {
    if (before === undefined) delete process.env.CORRAL_SUBNET_CLAIMS;
    else process.env.CORRAL_SUBNET_CLAIMS = before;
    rmSync(base, { recursive: true, force: true });
  }
}

test("two runtimes on one machine choose different default subnets before any bridge is up", () => {
  withClaims((base) => {
    const noRoutes = () => [];
    const a = new NetworkStore(join(base, "a")).defaultNetwork(noRoutes);
    const b = new NetworkStore(join(base, "b")).defaultNetwork(noRoutes);
    assert.equal(a.subnet, "172.17.0.0/16");
    assert.equal(b.subnet, "172.18.0.0/16");
    assert.notEqual(a.bridge, b.bridge);
    // user networks too
    const c = new NetworkStore(join(base, "a")).create({ name: "backend" }, noRoutes);
    assert.equal(c.subnet, "172.19.0.0/16");
  });
});

test("an explicit --subnet another runtime holds is refused in one line", () => {
  withClaims((base) => {
    const noRoutes = () => [];
    new NetworkStore(join(base, "a")).create({ name: "n1", subnet: "10.40.0.0/24" }, noRoutes);
    assert.throws(
      () =>
        new NetworkStore(join(base, "b")).create({ name: "n2", subnet: "10.40.0.0/16" }, noRoutes),
      {
        message:
          "subnet 10.40.0.0/16 overlaps a network of another Corral runtime on this machine: choose another --subnet",
      },
    );
  });
});

test("a subnet is free again once its network is removed or its runtime's root is gone", () => {
  withClaims((base) => {
    const noRoutes = () => [];
    const a = new NetworkStore(join(base, "a"));
    assert.equal(a.create({ name: "n1" }, noRoutes).subnet, "172.17.0.0/16");
    a.remove("n1");
    const b = new NetworkStore(join(base, "b"));
    assert.equal(b.create({ name: "n2" }, noRoutes).subnet, "172.17.0.0/16");
    rmSync(join(base, "b"), { recursive: true }); // its claim is stale now
    assert.equal(
      new NetworkStore(join(base, "c")).defaultNetwork(noRoutes).subnet,
      "172.17.0.0/16",
    );
  });
});
