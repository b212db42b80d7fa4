// Host management against a real SQLite database made by the committed migrations: join
// tokens (expiry, list, revoke), draining (a placement refused with the reason) and removal
// (rows and events gone, the credential refused, nothing comes back from a late report).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ContainerInfo, HostFacts } from "@corral/protocol";
import { SIM_FACTS } from "../../../test/fixtures/sim-agent.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/fixtures/database.ts";
import { createDb, type Db } from "../db.ts";
import { AppError } from "../errors.ts";
import { createServices, type Services } from "./index.ts";
import { createJoinTokenInput } from "./join-tokens.ts";

let database: TestDatabase;
let db: Db;
let s: Services;
let admin: { userId: string; ip: string };

const facts: HostFacts = { ...SIM_FACTS, hostname: "h" };
const container = (id: string, state: ContainerInfo["state"] = "running"): ContainerInfo => ({
  id: id.repeat(64),
  name: `c${id}`,
  image: "busybox",
  imageId: "sha256:x",
  command: ["sleep", "1"],
  state,
  pid: 10,
  exitCode: null,
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
});

before(async () => {
  database = await createTestDatabase("host-admin");
  db = createDb(database.url);
  s = createServices(db, () => undefined);
  await s.auth.ensureFirstAdmin("admin@example.com", "admin password");
  const u = await db.user.findFirstOrThrow({ where: { email: "admin@example.com" } });
  admin = { userId: u.id, ip: "127.0.0.1" };
});
after(async () => {
  s?.hub.close();
  await db?.$disconnect();
  database?.cleanup();
});

async function newHost(name: string) {
  const { token } = await s.joinTokens.create("http://x", admin);
  return s.hosts.join({ token, name, facts });
}

test("a join token expires after the hours chosen (24 by default, 1 to 168)", async () => {
  const before = Date.now();
  const t = await s.joinTokens.create("http://web:3000", admin);
  const hours = (Date.parse(t.expiresAt) - before) / 3600_000;
  assert.ok(hours > 23.99 && hours <= 24.01, `${hours} h`);
  assert.equal(t.command, `npm run agent -- --server http://web:3000 --token ${t.token}`);
  const two = await s.joinTokens.create("http://x", admin, { expiresInHours: 2 });
  assert.ok(Math.abs(Date.parse(two.expiresAt) - before - 2 * 3600_000) < 60_000);
  for (const [bad, message] of [
    [{ expiresInHours: 0 }, /^expiresInHours: expiresInHours is at least 1/],
    [{ expiresInHours: 169 }, /at most 168/],
    [{ expiresInHours: 1.5 }, /whole number/],
    [{ expires: 3 }, /expires/],
  ] as const) {
    const r = createJoinTokenInput.safeParse(bad);
    assert.equal(r.success, false, JSON.stringify(bad));
    const { describeZodError } = await import("@corral/protocol");
    assert.match(describeZodError(r.error!), message);
  }
});

test("the token list says who made each, when it expires, and what became of it", async () => {
  const usable = await s.joinTokens.create("http://x", admin);
  const used = await s.joinTokens.create("http://x", admin);
  const { hostId } = await s.hosts.join({ token: used.token, name: "joined", facts });
  const revoked = await s.joinTokens.create("http://x", admin);
  await s.joinTokens.revoke(revoked.id, admin);
  await s.joinTokens.revoke(revoked.id, admin); // again: nothing changes
  const expired = await s.joinTokens.create("http://x", admin);
  await db.joinToken.update({ where: { id: expired.id }, data: { expiresAt: new Date(0) } });

  const list = await s.joinTokens.list();
  const byId = new Map(list.map((t) => [t.id, t]));
  assert.equal(byId.get(usable.id)?.status, "usable");
  assert.equal(byId.get(usable.id)?.createdBy, "admin@example.com");
  assert.equal(byId.get(usable.id)?.expiresAt, usable.expiresAt);
  assert.deepEqual(
    [byId.get(used.id)?.status, byId.get(used.id)?.hostId, byId.get(used.id)?.hostName],
    ["used", hostId, "joined"],
  );
  assert.equal(byId.get(revoked.id)?.status, "revoked");
  assert.equal(byId.get(expired.id)?.status, "expired");
  assert.ok(
    list.every((t) => !("token" in t) && !("tokenHash" in t)),
    "no secret is listed",
  );

  // A revoked or expired token joins nothing; a used one cannot be revoked.
  for (const t of [revoked, expired]) {
    await assert.rejects(
      s.hosts.join({ token: t.token, name: "late", facts }),
      /join token unknown, used or expired: make a new one/,
    );
  }
  await assert.rejects(s.joinTokens.revoke(used.id, admin), (e: AppError) => {
    assert.equal(e.status, 409);
    assert.match(e.message, /already used by a host: remove that host/);
    return true;
  });
  await assert.rejects(s.joinTokens.revoke("nope", admin), /no join token nope/);
  const audit = await db.auditEntry.findMany({ where: { target: revoked.id } });
  assert.deepEqual(
    audit.map((a) => a.action),
    ["host.join-token", "host.join-token.revoke"],
  );
});

test("a draining host refuses new containers with the reason; undrain lets them through", async () => {
  const { hostId } = await newHost("busy");
  const h = await s.hostAdmin.drain(hostId, { reason: "kernel upgrade tonight" }, admin);
  assert.equal(h.draining?.reason, "kernel upgrade tonight");
  const create = () =>
    s.containers.create({ hostId, image: "busybox", cmd: ["true"] }, { userId: null, ip: "" });
  await assert.rejects(create(), (e: AppError) => {
    assert.equal(e.status, 409);
    assert.equal(
      e.message,
      "host busy is draining: kernel upgrade tonight; undrain it or choose another host",
    );
    return true;
  });
  const undrained = await s.hostAdmin.undrain(hostId, admin);
  assert.equal(undrained.draining, null);
  // past the drain check now: the host's agent is not connected, which is the next refusal
  await assert.rejects(create(), /is offline: start its agent/);
  await s.hostAdmin.drain(hostId, {}, admin);
  await assert.rejects(create(), /draining: an admin stopped placing new containers on it/);
  await assert.rejects(s.hostAdmin.drain("nope", {}, admin), /no host nope/);
});

test("an offline host's containers count as unknown, not running", async () => {
  const { hostId } = await newHost("away");
  await s.hosts.applySnapshot(hostId, {
    version: { epoch: "e", seq: 1 },
    facts,
    containers: [container("a"), container("b"), container("c", "exited")],
    images: [],
  });
  const h = await s.hosts.get(hostId);
  assert.equal(h.status, "offline");
  assert.deepEqual(h.containers, { running: 0, total: 3, unknown: 3 });
  const states = (await s.containers.list(hostId)).map((c) => c.state);
  assert.deepEqual(states, ["unknown", "unknown", "unknown"]);
  await s.hosts.markOnline(hostId, "0.1.0", "conn-1");
  assert.deepEqual((await s.hosts.get(hostId)).containers, { running: 2, total: 3, unknown: 0 });
});

test("removing a host forgets its rows and events and refuses its credential; late reports change nothing", async () => {
  const { hostId, credential } = await newHost("gone");
  await s.hosts.markOnline(hostId, "0.1.0", "conn-1");
  await s.hosts.applySnapshot(hostId, {
    version: { epoch: "e", seq: 1 },
    facts,
    containers: [container("d")],
    images: [
      { id: "sha256:i", repoTags: ["busybox:latest"], repoDigests: [], created: "", size: 1 },
    ],
  });
  assert.ok((await db.event.count({ where: { hostId } })) > 0);
  const removed = await s.hostAdmin.remove(hostId, admin);
  assert.deepEqual(removed, { name: "gone", containers: 1 });
  for (const count of [
    db.container.count({ where: { hostId } }),
    db.image.count({ where: { hostId } }),
    db.event.count({ where: { hostId } }),
  ])
    assert.equal(await count, 0);
  assert.equal(await s.hosts.authenticateAgent(hostId, credential), "revoked");
  assert.ok(!(await s.hosts.list()).some((h) => h.id === hostId));
  await assert.rejects(s.hosts.get(hostId), /no host/);
  await assert.rejects(s.hostAdmin.remove(hostId, admin), /no host/);
  // what its agent said before being cut off, applied after: dropped
  await s.hosts.applySnapshot(hostId, {
    version: { epoch: "e", seq: 2 },
    facts,
    containers: [container("d")],
    images: [],
  });
  await s.hosts.markOffline(hostId, "conn-1");
  assert.equal(await db.container.count({ where: { hostId } }), 0);
  assert.equal(await db.event.count({ where: { hostId } }), 0);
  const audit = await db.auditEntry.findFirst({ where: { action: "host.remove", target: hostId } });
  assert.ok(audit);
});
