import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetworkManager } from "./manager.js";

test("resolvConf: no nameserver on a gateway where the embedded resolver does not listen", () => {
  const root = mkdtempSync(join(tmpdir(), "corral-manager-"));
  const manager = new NetworkManager(root);
  try {
    // Defined, but serveNames never bound (as when port 53 is taken): the host's resolv.conf.
    manager.store.create({ name: "mynet", subnet: "10.211.0.0/24" }, () => []);
    assert.equal(manager.resolvConf("mynet"), undefined);
    assert.equal(manager.resolvConf("bridge"), undefined);
  } finally {
    manager.close();
    rmSync(root, { recursive: true });
  }
});
