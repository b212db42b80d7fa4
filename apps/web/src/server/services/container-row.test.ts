// The containers list's rows: made from the database's rows (only their columns read), equal to
// the slimmed full views that pushes bring, and replaced one at a time in a cached list. The
// service's part runs against a real SQLite database made by the committed migrations.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ContainerInfo, HostFacts } from "@corral/protocol";
import { SIM_FACTS } from "../../../test/fixtures/sim-agent.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/fixtures/database.ts";
import { createDb, type Db } from "../db.ts";
import {
  CONTAINER_ROW_FIELDS,
  CONTAINER_ROW_SELECT,
  containerListRow,
  putRow,
  type ContainerRow,
} from "./container-row.ts";
import type { ContainerView } from "./containers.ts";
import { createServices, type Services } from "./index.ts";

let database: TestDatabase;
let db: Db;
let s: Services;

before(async () => {
  database = await createTestDatabase("container-row");
  db = createDb(database.url);
  s = createServices(db, () => undefined);
});
after(async () => {
  s?.hub.close();
  await db?.$disconnect();
  database?.cleanup();
});

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

const facts: HostFacts = { ...SIM_FACTS, hostname: "h" };
const info = (id: string, state: ContainerInfo["state"]): ContainerInfo => ({
  id: id.repeat(64),
  name: `app-${id}`,
  image: "busybox:latest",
  imageId: "sha256:x",
  command: ["sleep", "1000"],
  state,
  pid: state === "running" ? 10 : 0,
  exitCode: state === "exited" ? 3 : null,
  oomKilled: state === "exited",
  error: "",
  restartCount: 0,
  restartPolicy: "no",
  created: "2026-12-03T07:00:00Z",
  startedAt: "2026-12-03T07:00:01Z",
  finishedAt: "0001-01-01T00:00:00Z",
  labels: { big: "x".repeat(500) },
  ports: [{ hostIp: "0.0.0.0", hostPort: 8080, containerPort: 80, protocol: "tcp" }],
  memoryLimitBytes: 0,
  cpus: 0,
});

test("the list's rows, made from the database's, are the full views slimmed (online or not)", async () => {
  await s.auth.ensureFirstAdmin("admin@example.com", "admin password");
  const u = await db.user.findFirstOrThrow({ where: { email: "admin@example.com" } });
  const admin = { userId: u.id, ip: "127.0.0.1" };
  const { token } = await s.joinTokens.create("http://x", admin);
  const { hostId } = await s.hosts.join({ token, name: "rows", facts });
  await s.hosts.applySnapshot(hostId, {
    version: { epoch: "e", seq: 1 },
    facts,
    containers: [info("a", "running"), info("b", "exited")],
    images: [],
  });
  // The host has not come online: its containers' state is unknown in both.
  const check = async (states: string[]) => {
    const rows = await s.containers.list(hostId);
    const views = await s.containers.listViews(hostId);
    // what a push writes into the cached list (the full view slimmed) is what the list gave
    assert.deepEqual(rows, views.map(containerListRow));
    assert.deepEqual(
      rows.map((r) => [r.name, r.state]),
      states.map((state, i) => [`app-${"ab"[i]}`, state]),
    );
    for (const r of rows) assert.deepEqual(Object.keys(r).sort(), [...CONTAINER_ROW_FIELDS].sort());
    return rows;
  };
  await check(["unknown", "unknown"]);
  await s.hosts.markOnline(hostId, "0.1.0", "conn-1");
  const [, b] = await check(["running", "exited"]);
  assert.deepEqual(b, {
    id: "b".repeat(64),
    hostId,
    name: "app-b",
    image: "busybox:latest",
    state: "exited",
    exitCode: 3,
    oomKilled: true,
    created: "2026-12-03T07:00:00Z",
    managed: false,
  });

  // The list reads only its own columns: a broken JSON column breaks the full view, not the list.
  await db.container.update({ where: { id: "a".repeat(64) }, data: { labels: "{not json" } });
  await assert.rejects(s.containers.listViews(hostId), SyntaxError);
  assert.equal((await s.containers.list(hostId)).length, 2);
  assert.ok(!("labels" in CONTAINER_ROW_SELECT) && "createdAt" in CONTAINER_ROW_SELECT);
});
