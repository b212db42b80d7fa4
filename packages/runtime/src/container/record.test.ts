import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerRecords, initialState } from "./record.js";

const id = "0123456789abcdef".repeat(4);

/** A container.json as the first networking release wrote it. */
function oldRecord(network: string, running: boolean): Record<string, unknown> {
  return {
    id,
    name: "old",
    created: "2026-11-01T00:00:00.000Z",
    imageId: "sha256:x",
    imageRef: "busybox",
    layerDirs: [],
    request: { image: "busybox", network, env: [], mounts: [], labels: {} },
    process: { args: ["sh"], env: [], cwd: "/", user: "", hostname: "h", stopSignal: "SIGTERM" },
    mounts: [],
    state: {
      ...initialState(),
      ...(running
        ? {
            status: "running",
            pid: 1234,
            network: {
              network: "bridge",
              ipAddress: "172.17.0.2",
              prefixLen: 16,
              gateway: "172.17.0.1",
              macAddress: "02:42:ac:11:00:02",
            },
          }
        : {}),
    },
  };
}

function load(record: Record<string, unknown>) {
  const root = mkdtempSync(join(tmpdir(), "corral-records-"));
  try {
    mkdirSync(join(root, "containers", id), { recursive: true });
    writeFileSync(join(root, "containers", id, "container.json"), JSON.stringify(record));
    const { records } = new ContainerRecords(root).loadAll();
    assert.equal(records.length, 1);
    return records[0]!;
  } finally {
    rmSync(root, { recursive: true });
  }
}

test("a running container of the first networking release: endpoints, networks, request defaults", () => {
  const r = load(oldRecord("bridge", true));
  assert.deepEqual(r.endpoints, [{ network: "bridge", aliases: [] }]);
  assert.deepEqual(r.exposedPorts, []);
  assert.deepEqual(r.request.publish, []);
  assert.deepEqual(r.request.networkAliases, []);
  assert.equal(r.request.publishAll, false);
  assert.equal("network" in r.state, false);
  assert.deepEqual(r.state.networks, [
    {
      network: "bridge",
      ipAddress: "172.17.0.2",
      prefixLen: 16,
      gateway: "172.17.0.1",
      macAddress: "02:42:ac:11:00:02",
      networkId: "",
      ifName: "eth0",
      aliases: [],
      hostVeth: `vc${id.slice(0, 12)}`,
    },
  ]);
});

test("an old --network none container has no endpoints", () => {
  const r = load(oldRecord("none", false));
  assert.deepEqual(r.endpoints, []);
  assert.equal(r.state.networks, undefined);
});
