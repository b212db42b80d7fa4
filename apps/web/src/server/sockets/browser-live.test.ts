// The browsers' live channel on a real socket.io server and a real SQLite database (the
// committed migrations): who may connect, who may open what, bad payloads answered in words,
// hub changes pushed, and socket.io's own HTTP answers carrying the security headers.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { io as connect, type Socket } from "socket.io-client";
import { BROWSER_NAMESPACE } from "@corral/protocol";
import { SIM_FACTS } from "../../../test/fixtures/sim-agent.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/fixtures/database.ts";
import { startSocketServer, type TestSocketServer } from "../../../test/fixtures/socket-server.ts";
import { createDb, type Db } from "../db.ts";
import { SECURITY_HEADERS, socketSecurityHeaders } from "../security-headers.ts";
import type { TokenChange } from "../services/api-tokens.ts";
import { SESSION_COOKIE } from "../services/auth.ts";
import { createServices, type Services } from "../services/index.ts";
import { waitFor } from "../../../../../packages/runtime/test/fixtures/wait.ts";
import { attachBrowserNamespace } from "./browser.ts";

let database: TestDatabase;
let db: Db;
let services: Services;
let server: TestSocketServer;
let url = "";
const sessions: Record<"admin" | "viewer", string> = { admin: "", viewer: "" };
const sockets: Socket[] = [];

before(async () => {
  database = await createTestDatabase("browser-live");
  db = createDb(database.url);
  services = createServices(db, () => undefined);
  await services.auth.ensureFirstAdmin("admin@example.com", "admin password");
  await db.user.create({
    data: {
      email: "viewer@example.com",
      passwordHash: await services.auth.hashPassword("viewer password"),
      role: "viewer",
    },
  });
  sessions.admin = (
    await services.auth.loginForSession(
      { email: "admin@example.com", password: "admin password" },
      "127.0.0.1",
    )
  ).session;
  sessions.viewer = (
    await services.auth.loginForSession(
      {
        email: "viewer@example.com",
        password: "viewer password",
      },
      "127.0.0.1",
    )
  ).session;
  server = await startSocketServer((io) => {
    socketSecurityHeaders(io);
    services.hub.attach(io);
    attachBrowserNamespace(io, services);
  });
  url = server.url;
});
after(async () => {
  for (const s of sockets) s.close();
  services?.hub.close();
  await server?.close();
  await db?.$disconnect();
  database?.cleanup();
});

/** A browser's connection with a session cookie (or none), from a page of `origin`. */
function browser(session?: string, origin?: string): Promise<Socket> {
  const s = connect(url + BROWSER_NAMESPACE, {
    transports: ["websocket"],
    reconnection: false,
    extraHeaders: {
      ...(session ? { cookie: `${SESSION_COOKIE}=${session}` } : {}),
      ...(origin ? { origin } : {}),
    },
  });
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

/** What a page hears until it is disconnected: why its session ended, then the cut. */
function heard(s: Socket): Promise<string[]> {
  const seen: string[] = [];
  s.on("session:ended", (e: { reason: string }) => seen.push(`session:ended ${e.reason}`));
  return new Promise((resolve) =>
    s.once("disconnect", (reason) => {
      seen.push(reason);
      resolve(seen);
    }),
  );
}

type Reply = { ok: true } | { ok: false; error: string };
const ask = (s: Socket, event: string, payload: unknown): Promise<Reply> =>
  s.timeout(10000).emitWithAck(event, payload) as Promise<Reply>;

test("no session, or an unknown one: the connection is refused", async () => {
  await assert.rejects(browser(), /log in first/);
  await assert.rejects(browser("cse_not-a-session"), /session expired: log in again/);
});

test("a foreign page cannot ride the cookie: its Origin is refused; this server's own is let in", async () => {
  await assert.rejects(
    browser(sessions.admin, "https://evil.example"),
    /origin https:\/\/evil\.example is not this server's/,
  );
  await assert.rejects(browser(sessions.admin, "http://127.0.0.1:1"), /is not this server's/);
  const own = await browser(sessions.admin, url);
  assert.ok(own.connected);
});

test("new audit entries are pushed to admins' pages only", async () => {
  const admin = await browser(sessions.admin);
  const viewer = await browser(sessions.viewer);
  let viewerGot = false;
  viewer.on("audit", () => (viewerGot = true));
  const got = new Promise<{ action: string; detail: Record<string, unknown> }>((resolve) =>
    admin.once("audit", resolve),
  );
  await services.audit.record({ userId: null, ip: "127.0.0.1" }, "test.pushed", "t", {
    token: "cat_secret",
  });
  const e = await got;
  assert.equal(e.action, "test.pushed");
  assert.notEqual(e.detail.token, "cat_secret");
  // pushed before the answer to a later request would be: after one round trip, nothing came
  await ask(viewer, "logs:open", { id: "nope", sid: "v1", tail: 1 });
  assert.equal(viewerGot, false);
});

test("a role change reaches open sockets at once; an ended session's socket is disconnected", async () => {
  const op = await services.auth.createUser(
    { email: "op@example.com", password: "operator password", role: "operator" },
    { userId: null, ip: "127.0.0.1" },
  );
  const login = { email: "op@example.com", password: "operator password" };
  const mine = (await services.auth.loginForSession(login, "127.0.0.1")).session;
  const other = (await services.auth.loginForSession(login, "127.0.0.1")).session;
  const s = await browser(mine);
  const elsewhere = await browser(other);
  const open = () =>
    ask(s, "exec:open", { id: "nope", sid: `x${Math.random()}`, cols: 80, rows: 24 });
  assert.deepEqual(await open(), { ok: false, error: "no container nope" }, "an operator may");
  await services.users.setRole({ id: op.id, role: "viewer" }, { userId: null, ip: "127.0.0.1" });
  await waitFor("the new role on the open socket", async () =>
    /may not terminal\.open/.test(JSON.stringify(await open())) ? true : undefined,
  );
  const gone = heard(elsewhere);
  await services.auth.changePassword(
    { id: op.id, email: op.email, role: "viewer" },
    { currentPassword: "operator password", newPassword: "a new operator password" },
    mine,
    { userId: op.id, ip: "127.0.0.1" },
  );
  // the page is told its session is no longer valid (it logs in again and comes back)
  assert.deepEqual(await gone, ["session:ended invalid", "io server disconnect"]);
  assert.ok(s.connected, "the session that changed the password stays");
});

test("a logout tells that session's pages it was a logout, then cuts them; another session stays", async () => {
  await services.auth.createUser(
    { email: "out@example.com", password: "logging out password", role: "viewer" },
    { userId: null, ip: "127.0.0.1" },
  );
  const login = { email: "out@example.com", password: "logging out password" };
  const ending = (await services.auth.loginForSession(login, "127.0.0.1")).session;
  const staying = (await services.auth.loginForSession(login, "127.0.0.1")).session;
  const [tab1, tab2, other] = await Promise.all([
    browser(ending),
    browser(ending),
    browser(staying),
  ]);
  const [heard1, heard2] = [heard(tab1), heard(tab2)];
  await services.auth.logout(ending);
  assert.deepEqual(await heard1, ["session:ended logout", "io server disconnect"]);
  assert.deepEqual(await heard2, ["session:ended logout", "io server disconnect"]);
  assert.deepEqual(await ask(other, "logs:open", { id: "nope", sid: "o1", tail: 1 }), {
    ok: false,
    error: "no container nope",
  });
  assert.ok(other.connected);
  await assert.rejects(browser(ending), /session expired: log in again/);
});

test("a token made, used and revoked reaches its owner's and admins' pages only; a burst of uses is one push", async () => {
  const owner = await services.auth.userForSession(sessions.viewer);
  assert.ok(owner);
  await services.auth.createUser(
    { email: "bystander@example.com", password: "bystander password", role: "operator" },
    { userId: null, ip: "127.0.0.1" },
  );
  const bystander = (
    await services.auth.loginForSession(
      { email: "bystander@example.com", password: "bystander password" },
      "127.0.0.1",
    )
  ).session;
  const pages = {
    owner: await browser(sessions.viewer),
    admin: await browser(sessions.admin),
    bystander: await browser(bystander),
  };
  const got: Record<keyof typeof pages, string[]> = { owner: [], admin: [], bystander: [] };
  for (const [who, s] of Object.entries(pages) as Array<[keyof typeof pages, Socket]>) {
    s.on("token", (c: TokenChange) =>
      got[who].push(
        c.kind === "put" ? `${c.token.name} ${c.token.lastUsedAt ? "used" : "made"}` : c.kind,
      ),
    );
  }
  const actor = { userId: owner.id, ip: "127.0.0.1" };
  const t = await services.tokens.create(owner, { name: "nightly" }, actor);
  // a script's burst: 100 requests at once read "never used"; one writes it, one push
  const users = await Promise.all(
    Array.from({ length: 100 }, () => services.auth.userForToken(t.token)),
  );
  assert.ok(users.every((u) => u?.id === owner.id));
  assert.ok((await services.tokens.list(owner)).find((x) => x.id === t.id)?.lastUsedAt);
  await services.auth.userForToken(t.token); // within the minute: no write, no push
  await services.tokens.revoke(owner, t.id, actor);
  const expected = ["nightly made", "nightly used", "revoked"];
  await waitFor("the revocation on the owner's and the admin's pages", () =>
    got.owner.length >= 3 && got.admin.length >= 3 ? true : undefined,
  );
  // pushed before the answer to a later request would be: after one round trip, nothing more
  await ask(pages.bystander, "logs:open", { id: "nope", sid: "b1", tail: 1 });
  await ask(pages.owner, "logs:open", { id: "nope", sid: "b2", tail: 1 });
  assert.deepEqual(got.owner, expected);
  assert.deepEqual(got.admin, expected);
  assert.deepEqual(got.bystander, [], "another user's token is not theirs to see");
});

test("a viewer may not open a terminal or pull an image; an event not in the table is refused", async () => {
  const s = await browser(sessions.viewer);
  const exec = await ask(s, "exec:open", { id: "x", sid: "s1", cols: 80, rows: 24 });
  assert.deepEqual(exec, {
    ok: false,
    error: "your role (viewer) may not terminal.open: it needs operator or above; ask an admin",
  });
  const pull = await ask(s, "image:pull", { hostId: "h", ref: "busybox" });
  assert.equal(pull.ok, false);
  assert.match((pull as { error: string }).error, /may not images.write/);
  const admin = await browser(sessions.admin);
  assert.deepEqual(await ask(admin, "container:kill", { id: "x" }), {
    ok: false,
    error: "container:kill is not an event",
  });
});

test("bad payloads and unknown containers are answered in words", async () => {
  const s = await browser(sessions.admin);
  const bad = await ask(s, "exec:open", { id: "x", sid: "s2", cols: 0, rows: 24 });
  assert.equal(bad.ok, false);
  assert.match((bad as { error: string }).error, /cols/);
  const missing = await ask(s, "logs:open", { id: "nope", sid: "s3", tail: 10 });
  assert.deepEqual(missing, { ok: false, error: "no container nope" });
  // The name is free again after a failed open.
  const again = await ask(s, "logs:open", { id: "nope", sid: "s3", tail: 10 });
  assert.deepEqual(again, { ok: false, error: "no container nope" });
});

test("a host change stored by the hub is pushed to every browser", async () => {
  const s = await browser(sessions.viewer);
  const { token } = await services.joinTokens.create("http://x", { userId: null, ip: "" });
  const facts = { ...SIM_FACTS, hostname: "h1" };
  const { hostId } = await services.hosts.join({ token, name: "h1", facts });
  const pushed = new Promise<{ id: string; name: string; status: string }>((resolve) =>
    s.once("host", resolve),
  );
  services.hub.changes.emit("host", hostId);
  const h = await pushed;
  assert.equal(h.id, hostId);
  assert.equal(h.name, "h1");
  assert.equal(h.status, "offline");
});

test("a host's own stats: the recent ones when watched, then each new one; a removal is pushed", async () => {
  const s = await browser(sessions.viewer);
  const { token } = await services.joinTokens.create("http://x", { userId: null, ip: "" });
  const { hostId } = await services.hosts.join({
    token,
    name: "h-stats",
    facts: { ...SIM_FACTS, hostname: "h2" },
  });
  const sample = (sec: number, cpuPercent: number) => ({
    time: new Date(Date.UTC(2026, 11, 3, 0, 0, sec)).toISOString(),
    cpuPercent,
    cpus: 2,
    memoryUsedBytes: 5e8,
    memoryTotalBytes: 1e9,
    load1: 0.1,
    load5: 0.1,
    load15: 0.1,
    diskUsedBytes: 1,
    diskTotalBytes: 2,
  });
  services.hostStats.record(hostId, sample(1, 10));
  services.hostStats.record(hostId, sample(0, 99)); // older than the last: dropped
  type Pushed = { hostId: string; samples: Array<{ cpuPercent: number }> };
  const next = () => new Promise<Pushed>((resolve) => s.once("host:stats", resolve));
  let pushed = next();
  s.emit("hostStats:watch", { hostId });
  assert.deepEqual(
    (await pushed).samples.map((x) => x.cpuPercent),
    [10],
  );
  pushed = next();
  services.hostStats.record(hostId, sample(2, 20));
  assert.deepEqual(await pushed, { hostId, samples: [sample(2, 20)] });

  const gone = new Promise<{ hostId: string }>((resolve) => s.once("host:gone", resolve));
  await services.hostAdmin.remove(hostId, { userId: null, ip: "" });
  assert.deepEqual(await gone, { hostId });
  assert.deepEqual(services.hostStats.recent(hostId), []);
});

test("a notice reaches every browser; webhook deliveries only those who may manage them", async () => {
  const viewer = await browser(sessions.viewer);
  const admin = await browser(sessions.admin);
  const got = (s: Socket) =>
    new Promise<{ title: string; read: boolean }>((resolve) => s.once("notice", resolve));
  const [v, a] = [got(viewer), got(admin)];
  const raised = await services.notices.raise({
    kind: "host-offline",
    hostId: "h-gone",
    time: new Date().toISOString(),
  });
  assert.equal((await v).title, raised.title);
  assert.equal((await a).read, false);

  let viewerSaw = false;
  viewer.on("webhooks:changed", () => (viewerSaw = true));
  const adminSaw = new Promise<void>((resolve) => admin.once("webhooks:changed", () => resolve()));
  services.webhooks.changes.emit("delivery", "w1");
  await adminSaw;
  // the viewer's socket got nothing: a round trip after the push proves it was not just late
  await ask(viewer, "logs:open", { id: "nope", sid: "late", tail: 1 });
  assert.equal(viewerSaw, false);
});

test("stream:ping answers whether the server still holds the stream", async () => {
  const s = await browser(sessions.viewer);
  const pong = new Promise<{ sid: string; alive: boolean }>((resolve) =>
    s.once("stream:pong", resolve),
  );
  s.emit("stream:ping", { sid: "never-opened" });
  assert.deepEqual(await pong, { sid: "never-opened", alive: false });
});

test("socket.io's own HTTP answers carry the security headers", async () => {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(res.status, 200);
  for (const [name, value] of Object.entries(SECURITY_HEADERS))
    assert.equal(res.headers.get(name), value, name);
});
