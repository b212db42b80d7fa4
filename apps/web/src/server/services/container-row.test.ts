import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CONTAINER_ROW_FIELDS,
  containerListRow,
  putRow,
  type ContainerRow,
} from "./container-row.ts";
import type { ContainerView } from "./containers.ts";

function view(id: string, state: ContainerView["state"] = "running"): ContainerView {
  return {
    id,
    hostId: "h1",
    name: `web-${id}`,
    image: "busybox:latest",
    imageId: "sha256:abc",
    command: ["sleep", "1000"],
    state,
    reportedState: state === "unknown" ? "running" : state,
    pid: 42,
    exitCode: null,
    oomKilled: false,
    error: "",
    restartCount: 0,
    restartPolicy: "no",
    created: "2026-12-03T07:00:00.000Z",
    startedAt: "2026-12-03T07:00:01.000Z",
    finishedAt: "",
    labels: { "corral.managed-by": "web", secret: "x".repeat(500) },
    ports: [{ hostIp: "0.0.0.0", hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    memoryLimitBytes: 0,
    cpus: 0,
    managed: true,
    desiredState: "running",
    reportedAt: "2026-12-03T07:00:02.000Z",
  };
}

test("a list row holds the list's fields only, with the view's values", () => {
  const v = view("a", "exited");
  const row = containerListRow(v);
  assert.deepEqual(Object.keys(row).sort(), [...CONTAINER_ROW_FIELDS].sort());
  assert.deepEqual(row, {
    id: "a",
    hostId: "h1",
    name: "web-a",
    image: "busybox:latest",
    state: "exited",
    exitCode: null,
    oomKilled: false,
    created: "2026-12-03T07:00:00.000Z",
    managed: true,
  });
  assert.ok(JSON.stringify(row).length < JSON.stringify(v).length / 3);
  // the view itself is not touched (the container's page shows it whole)
  assert.equal(v.labels.secret?.length, 500);
});

test("putRow replaces, adds and removes one row and keeps the other rows' objects", () => {
  const list: ContainerRow[] = ["a", "b", "c"].map((id) => containerListRow(view(id)));
  const [a, b, c] = list as [ContainerRow, ContainerRow, ContainerRow];

  const stopped = containerListRow(view("b", "exited"));
  const replaced = putRow(list, "b", stopped);
  assert.deepEqual(
    replaced.map((r) => [r.id, r.state]),
    [
      ["a", "running"],
      ["b", "exited"],
      ["c", "running"],
    ],
  );
  assert.equal(replaced[0], a);
  assert.equal(replaced[2], c);
  assert.equal(list[1], b, "the cached list is not changed in place");

  const added = putRow(list, "d", containerListRow(view("d")));
  assert.deepEqual(
    added.map((r) => r.id),
    ["a", "b", "c", "d"],
  );

  const removed = putRow(list, "a", null);
  assert.deepEqual(
    removed.map((r) => r.id),
    ["b", "c"],
  );
  assert.equal(putRow(list, "zzz", null), list, "removing an unknown container changes nothing");
});
