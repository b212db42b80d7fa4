import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetworkStore } from "./networks.js";

test("bridge.json of the first release (name, bridge, subnet) reads with the fields since added", () => {
  const root = mkdtempSync(join(tmpdir(), "corral-networks-"));
  try {
    mkdirSync(join(root, "network"));
    writeFileSync(
      join(root, "network", "bridge.json"),
      JSON.stringify({ name: "bridge", bridge: "cr0123456789", subnet: "172.17.0.0/16" }),
    );
    const store = new NetworkStore(root);
    const [config] = store.bridgeNetworks();
    assert.ok(config);
    assert.equal(config.gateway, "172.17.0.1");
    assert.deepEqual(config.labels, {});
    assert.match(config.created, /^\d{4}-\d\d-\d\dT/);
    // The default bridge's id is the one list() gives it: find() by id and by name agree.
    const listed = store.list(() => []).find((n) => n.name === "bridge");
    assert.equal(config.id, listed?.id);
    assert.equal(listed?.config?.bridge, "cr0123456789");
  } finally {
    rmSync(root, { recursive: true });
  }
});
