// HostService against a real database made by the committed migrations (SQLite, or
// PostgreSQL with CORRAL_TEST_DATABASE=postgresql).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ContainerInfo, HostFacts, ImageInfo, Snapshot } from "@corral/protocol";
import { createTestDatabase, type TestDatabase } from "../../../test/fixtures/database.ts";
import { createDb, type Db } from "../db.ts";
import { AuditService } from "./audit.ts";
import { HostService } from "./hosts.ts";
import { JoinTokenService } from "./join-tokens.ts";

let database: TestDatabase;
let db: Db;
let hosts: HostService;
let tokens: JoinTokenService;
const actor = { userId: null, ip: "127.0.0.1" };

const facts: HostFacts = {
  hostname: "h",
  kernel: "6.1",
  os: "Linux",
  arch: "x64",
  cpus: 2,
  memoryBytes: 1e9,
  diskBytes: 1e10,
  diskFreeBytes: 1e9,
  cgroups: "v1",
  runtimeVersion: "0.1.0",
  agentVersion: "0.1.0",
};
const c = (id: string, over: Partial<ContainerInfo> = {}): ContainerInfo => ({
  id: id.repeat(64),
  name: `c${id}`,
  image: "busybox",
  imageId: "sha256:x",
  command: ["sleep", "1"],
  state: "running",
  pid: 10,
  exitCode: 0,
  oomKilled: false,
  error: "",
  restartCount: 0,
  restartPolicy: "no",
  created: "2026-01-01T00:00:00Z",
  startedAt: "2026-01-01T00:00:01Z",
  finishedAt: "0001-01-01T00:00:00Z",
  labels: {},
  ports: [],
  memoryLimitBytes: 0,
  cpus: 0,
  ...over,
});
const snapshot = (epoch: string, seq: number, containers: ContainerInfo[]): Snapshot => ({
  version: { epoch, seq },
  facts,
  containers,
  images: [],
});

before(async () => {
  database = await createTestDatabase("hosts");
  db = createDb(database.url);
  hosts = new HostService(db);
  tokens = new JoinTokenService(db, new AuditService(db));
});
after(async () => {
  await db?.$disconnect();
  database?.cleanup();
});

async function newHost(): Promise<{ hostId: string; credential: string }> {
  const { token } = await tokens.create("http://x", actor);
  return hosts.join({ token, name: "h", facts });
}

test("a join token works once; the credential authenticates until the host is revoked", async () => {
  const { token } = await tokens.create("http://x", actor);
  const joined = await hosts.join({ token, name: "h1", facts });
  await assert.rejects(
    hosts.join({ token, name: "h2", facts }),
    /join token unknown, used or expired/,
  );
  assert.equal(await hosts.authenticateAgent(joined.hostId, joined.credential), "ok");
  assert.equal(await hosts.authenticateAgent(joined.hostId, joined.credential + "x"), "unknown");
  assert.equal(await hosts.authenticateAgent("other", joined.credential), "unknown");
  await hosts.remove(joined.hostId);
  assert.equal(await hosts.authenticateAgent(joined.hostId, joined.credential), "revoked");
  assert.equal(await db.host.count({ where: { name: "h2" } }), 0, "a refused join stores nothing");
});

test("deltas apply in order; a gap asks for a snapshot; a duplicate is ignored", async () => {
  const { hostId } = await newHost();
  await hosts.applySnapshot(hostId, snapshot("e1", 5, [c("a")]));
  const die = (seq: number, epoch = "e1") =>
    hosts.applyDelta(hostId, {
      version: { epoch, seq },
      change: {
        kind: "container",
        event: {
          type: "die",
          id: "a".repeat(64),
          name: "ca",
          image: "busybox",
          time: "2026-01-01T00:00:02Z",
          exitCode: 3,
        },
        container: c("a", { state: "exited", exitCode: 3 }),
      },
    });
  assert.equal(await die(7), "gap");
  assert.equal(
    (await db.container.findUniqueOrThrow({ where: { id: "a".repeat(64) } })).state,
    "running",
  );
  assert.equal(await die(6, "e2"), "gap", "another agent process's numbering");
  assert.equal(await die(6), "ok");
  assert.equal(await die(6), "ok", "a duplicate");
  const row = await db.container.findUniqueOrThrow({ where: { id: "a".repeat(64) } });
  assert.equal(row.state, "exited");
  assert.equal(row.exitCode, 3);
  const events = await db.event.findMany({ where: { hostId, type: "die" } });
  assert.equal(events.length, 1, "the duplicate recorded nothing");
});

test("a snapshot records what happened while the agent was away", async () => {
  const { hostId } = await newHost();
  await hosts.applySnapshot(hostId, snapshot("e1", 1, [c("b"), c("d")]));
  await hosts.applySnapshot(
    hostId,
    snapshot("e2", 1, [
      c("b", {
        state: "exited",
        exitCode: 137,
        oomKilled: true,
        finishedAt: "2026-01-01T00:05:00Z",
      }),
    ]),
  );
  const rows = await db.container.findMany({ where: { hostId } });
  assert.deepEqual(
    rows.map((r) => r.name),
    ["cb"],
  );
  const events = await db.event.findMany({ where: { hostId }, orderBy: { id: "asc" } });
  const die = events.find((e) => e.type === "die");
  assert.equal(die?.exitCode, 137);
  assert.equal(die?.oomKilled, true);
  assert.equal(die?.time.toISOString(), "2026-01-01T00:05:00.000Z");
  assert.ok(events.some((e) => e.type === "destroy" && e.containerId === "d".repeat(64)));
});

test("an unchanged snapshot (a reconnect) is one write; after a delta the same snapshot is applied in full", async () => {
  const { hostId } = await newHost();
  const events = () => db.event.count({ where: { hostId } });
  const state = async () =>
    (await db.container.findUniqueOrThrow({ where: { id: "h".repeat(64) } })).state;
  assert.equal(await hosts.applySnapshot(hostId, snapshot("e1", 1, [c("h"), c("i")])), "changed");
  const recorded = await events();
  // The agent reconnects (a new epoch, fresh facts), its containers as they were, listed in
  // another order.
  const again = { ...snapshot("e2", 1, [c("i"), c("h")]), facts: { ...facts, diskFreeBytes: 5 } };
  assert.equal(await hosts.applySnapshot(hostId, again), "unchanged");
  assert.equal(await events(), recorded, "nothing happened, nothing recorded");
  const h = await db.host.findUniqueOrThrow({ where: { id: hostId } });
  assert.equal(h.stateEpoch, "e2", "the new numbering is stored");
  assert.equal(JSON.parse(h.facts).diskFreeBytes, 5, "the new facts are stored");
  // A delta changes the rows (h exited); the agent's next snapshot says h runs again, exactly
  // as in the first snapshot: it must be applied, not taken for "nothing changed".
  await hosts.applyDelta(hostId, {
    version: { epoch: "e2", seq: 2 },
    change: {
      kind: "container",
      event: {
        type: "die",
        id: "h".repeat(64),
        name: "ch",
        image: "busybox",
        time: "2026-01-01T00:00:03Z",
      },
      container: c("h", { state: "exited" }),
    },
  });
  assert.equal(await state(), "exited");
  assert.equal(await hosts.applySnapshot(hostId, snapshot("e3", 1, [c("h"), c("i")])), "changed");
  assert.equal(await state(), "running");
  // A removed host's snapshot stores nothing.
  await hosts.remove(hostId);
  assert.equal(await hosts.applySnapshot(hostId, snapshot("e3", 2, [c("h"), c("i")])), "unchanged");
  assert.equal(await db.container.count({ where: { hostId } }), 0);
});

test("byte counts over 2 GiB and a state seq past 2^31 are stored exactly (Int is 32-bit)", async () => {
  const { hostId } = await newHost();
  const GiB = 2 ** 30;
  const image: ImageInfo = {
    id: "sha256:" + "e".repeat(64),
    repoTags: ["big:1"],
    repoDigests: [],
    created: "2026-01-01T00:00:00Z",
    size: 3 * GiB + 1,
  };
  const seq = 2 ** 31 + 5;
  await hosts.applySnapshot(hostId, {
    ...snapshot("big", seq, [c("f", { memoryLimitBytes: 4 * GiB })]),
    images: [image],
  });
  const row = await db.container.findUniqueOrThrow({ where: { id: "f".repeat(64) } });
  assert.equal(row.memoryLimit, 4 * GiB);
  const img = await db.image.findFirstOrThrow({ where: { hostId } });
  assert.equal(img.size, 3 * GiB + 1);
  assert.equal((await db.host.findUniqueOrThrow({ where: { id: hostId } })).stateSeq, seq);
  const next = await hosts.applyDelta(hostId, {
    version: { epoch: "big", seq: seq + 1 },
    change: { kind: "images", images: [{ ...image, size: 8 * GiB }] },
  });
  assert.equal(next, "ok", "the delta after seq 2^31+5 is in order");
  assert.equal((await db.image.findFirstOrThrow({ where: { hostId } })).size, 8 * GiB);
});

test("the same delta sent many times at once is applied once (transactions run side by side on PostgreSQL)", async () => {
  const { hostId } = await newHost();
  await hosts.applySnapshot(hostId, snapshot("e1", 1, [c("g")]));
  const delta = {
    version: { epoch: "e1", seq: 2 },
    change: {
      kind: "container" as const,
      event: {
        type: "die" as const,
        id: "g".repeat(64),
        name: "cg",
        image: "busybox",
        time: "2026-01-01T00:00:02Z",
        exitCode: 1,
      },
      container: c("g", { state: "exited", exitCode: 1 }),
    },
  };
  const results = await Promise.all(
    Array.from({ length: 8 }, () => hosts.applyDelta(hostId, delta)),
  );
  assert.deepEqual(results, Array(8).fill("ok"));
  const dies = await db.event.count({ where: { hostId, type: "die" } });
  assert.equal(dies, 1, "one die event, not one per copy");
  assert.equal((await db.host.findUniqueOrThrow({ where: { id: hostId } })).stateSeq, 2);
});

test("get reads one host as list shows it; a revoked host is not found", async () => {
  const { hostId } = await newHost();
  await hosts.applySnapshot(hostId, snapshot("g1", 1, [c("d"), c("e", { state: "exited" })]));
  await hosts.markOnline(hostId, "1", "conn-g");
  const one = await hosts.get(hostId);
  assert.deepEqual(
    one,
    (await hosts.list()).find((h) => h.id === hostId),
  );
  assert.deepEqual(one.containers, { running: 1, total: 2, unknown: 0 });
  await hosts.remove(hostId);
  await assert.rejects(hosts.get(hostId), /no host/);
});

test("with several web processes, a host nobody has heard from is marked offline once", async () => {
  const silent = (await newHost()).hostId;
  const here = (await newHost()).hostId;
  const fresh = (await newHost()).hostId;
  for (const id of [silent, here, fresh]) await hosts.markOnline(id, "1", `conn-${id}`);
  const old = new Date(Date.now() - 120_000);
  await db.host.updateMany({ where: { id: { in: [silent, here] } }, data: { lastSeenAt: old } });
  const cutoff = new Date(Date.now() - 60_000);
  // `here` is connected to the sweeping process: kept whatever its lastSeenAt says.
  assert.deepEqual(await hosts.markSilentOffline(cutoff, new Set([here])), [silent]);
  assert.deepEqual(await hosts.markSilentOffline(cutoff, new Set([here])), [], "only once");
  const status = async (id: string) => (await hosts.get(id)).status;
  assert.equal(await status(silent), "offline");
  assert.equal(await status(here), "online");
  assert.equal(await status(fresh), "online");
  const events = await db.event.findMany({ where: { hostId: silent, type: "host-offline" } });
  assert.equal(events.length, 1);
});

test("beating hosts, stored in one write, are not swept as silent; a host that stopped beating is", async () => {
  const ids = [(await newHost()).hostId, (await newHost()).hostId, (await newHost()).hostId];
  for (const id of ids) await hosts.markOnline(id, "1", `conn-${id}`);
  const old = new Date(Date.now() - 120_000);
  await db.host.updateMany({ where: { id: { in: ids } }, data: { lastSeenAt: old } });
  await hosts.touch([ids[0]!, ids[1]!]);
  const seen = await Promise.all(ids.map(async (id) => (await hosts.get(id)).lastSeenAt));
  assert.ok(Date.parse(seen[0]!) > Date.now() - 10_000, "the first host's beat is stored");
  assert.equal(seen[1], seen[0], "both in one write");
  assert.equal(seen[2], old.toISOString(), "a host that did not beat is left as it was");
  const swept = await hosts.markSilentOffline(new Date(Date.now() - 60_000), new Set());
  assert.ok(swept.includes(ids[2]!) && !swept.includes(ids[0]!) && !swept.includes(ids[1]!));
});

test("a closed connection marks its host offline only while the host is still that connection's", async () => {
  const { hostId } = await newHost();
  const offlineEvents = () => db.event.count({ where: { hostId, type: "host-offline" } });
  // The agent was on process A, then reconnected to process B before A saw its old socket close.
  await hosts.markOnline(hostId, "1", "socket-on-a");
  await hosts.markOnline(hostId, "1", "socket-on-b");
  assert.equal(await hosts.markOffline(hostId, "socket-on-a"), false, "A's stale close");
  assert.equal((await hosts.get(hostId)).status, "online");
  assert.equal(await offlineEvents(), 0);
  // The agent dies: B's close is the current connection's.
  assert.equal(await hosts.markOffline(hostId, "socket-on-b"), true);
  assert.equal((await hosts.get(hostId)).status, "offline");
  assert.equal(await offlineEvents(), 1);
  // Seen twice (or after the silent-host sweep): once only.
  assert.equal(await hosts.markOffline(hostId, "socket-on-b"), false);
  assert.equal(await offlineEvents(), 1);
  // The sweep clears the connection too: its late close adds no second offline event.
  await hosts.markOnline(hostId, "1", "socket-on-c");
  await db.host.update({ where: { id: hostId }, data: { lastSeenAt: new Date(0) } });
  const swept = await hosts.markSilentOffline(new Date(Date.now() - 60_000), new Set());
  assert.ok(swept.includes(hostId));
  assert.equal(await hosts.markOffline(hostId, "socket-on-c"), false);
  assert.equal(await offlineEvents(), 2);
});

test("an older connection's late online write does not take the host from a newer one", async () => {
  const { hostId } = await newHost();
  const t = Date.now();
  // B stored the agent's reconnect before A's write for the older connection got through.
  assert.equal(await hosts.markOnline(hostId, "1", "newer-on-b", new Date(t)), true);
  assert.equal(await hosts.markOnline(hostId, "1", "older-on-a", new Date(t - 3000)), false);
  // so the older connection's close changes nothing; the newer one's does
  assert.equal(await hosts.markOffline(hostId, "older-on-a"), false);
  assert.equal((await hosts.get(hostId)).status, "online");
  assert.equal(await hosts.markOffline(hostId, "newer-on-b"), true);
  // offline, any connection may bring it back (even one whose clock is behind)
  assert.equal(await hosts.markOnline(hostId, "1", "next", new Date(t - 60_000)), true);
  assert.equal((await hosts.get(hostId)).status, "online");
  const onlineEvents = await db.event.count({ where: { hostId, type: "host-online" } });
  assert.equal(onlineEvents, 2);
});
