// The access services against a real SQLite database made by the committed migrations: first-run
// setup, roles that never lose the last admin, passwords that end other sessions, API tokens,
// the audit log (masked, paged, pushed) and a container's env masked for viewers.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SIM_FACTS } from "../../../test/fixtures/sim-agent.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/fixtures/database.ts";
import { createDb, type Db } from "../db.ts";
import { MASK } from "../secrets.ts";
import { createTokenInput } from "./api-tokens.ts";
import type { AuditView } from "./audit.ts";
import { LOGIN_FAILED } from "./audit-actions.ts";
import { AuthService, LOGIN_TOKEN_TTL_MS } from "./auth.ts";
import { createServices, type Services } from "./index.ts";
import { LoginLimits } from "./login-limits.ts";

let database: TestDatabase;
let db: Db;
let s: Services;
const actor = { userId: null, ip: "198.51.100.7" };

before(async () => {
  database = await createTestDatabase("access");
  db = createDb(database.url);
  s = createServices(db, () => undefined);
});
after(async () => {
  await db?.$disconnect();
  database?.cleanup();
});

const admin = { email: "first@example.com", password: "first admin password" };

test("setup needs the printed token, makes one admin, then is closed for good", async () => {
  assert.equal(await s.setup.open(), true);
  // Nothing was printed yet: no token opens it.
  await assert.rejects(
    s.setup.complete({ token: "cst_guess", ...admin }, "1.2.3.4"),
    /403|wrong setup token/,
  );
  const token = await s.setup.begin();
  assert.match(token ?? "", /^cst_/);
  await assert.rejects(
    s.setup.complete({ token: "cst_wrong", ...admin }, "1.2.3.4"),
    /token: wrong setup token/,
  );
  assert.equal(await db.user.count(), 0);
  // Two right answers at once: one admin.
  const results = await Promise.allSettled([
    s.setup.complete({ token: token!, ...admin }, "1.2.3.4"),
    s.setup.complete(
      { token: token!, email: "second@example.com", password: admin.password },
      "1.2.3.4",
    ),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["fulfilled", "rejected"],
  );
  const made = results[0] as PromiseFulfilledResult<{ session: string }>;
  assert.equal((await s.auth.userForSession(made.value.session))?.role, "admin");
  assert.match(String((results[1] as PromiseRejectedResult).reason), /set up already/);
  assert.equal(await s.setup.open(), false);
  assert.equal(await s.setup.begin(), undefined, "no new token once a user exists");
  assert.deepEqual(
    (await db.user.findMany()).map((u) => [u.email, u.role]),
    [["first@example.com", "admin"]],
  );
  // CORRAL_ADMIN_* only ever fills an empty database
  assert.deepEqual(await s.auth.ensureFirstAdmin("x@example.com", "another password"), {
    created: false,
  });
});

test("the last admin can be neither demoted nor removed, and the refusal says why", async () => {
  const first = await db.user.findUniqueOrThrow({ where: { email: admin.email } });
  await assert.rejects(
    s.users.setRole({ id: first.id, role: "viewer" }, actor),
    /first@example\.com is the last admin: make another user admin first/,
  );
  await assert.rejects(s.users.remove(first.id, actor), /is the last admin/);
  const second = await s.auth.createUser(
    { email: "second@example.com", password: "second admin password", role: "admin" },
    actor,
  );
  await s.users.setRole({ id: first.id, role: "operator" }, actor);
  await assert.rejects(s.users.remove(second.id, actor), /second@example\.com is the last admin/);
  await s.users.setRole({ id: first.id, role: "admin" }, actor);
  await s.users.remove(second.id, actor);
  assert.equal(await db.user.count({ where: { role: "admin" } }), 1);
  await assert.rejects(s.users.remove("nobody", actor), /no user nobody/);
});

test("changing a password needs the current one, ends the other sessions and renews this one's", async () => {
  const user = await s.auth.createUser(
    { email: "op@example.com", password: "operator password", role: "operator" },
    actor,
  );
  const login = { email: "op@example.com", password: "operator password" };
  const here = (await s.auth.loginForSession(login, "10.0.0.1")).session;
  const elsewhere = (await s.auth.loginForSession(login, "10.0.0.2")).session;
  await assert.rejects(
    s.auth.changePassword(
      user,
      { currentPassword: "wrong", newPassword: "a new long password" },
      here,
      actor,
    ),
    (err: Error & { status?: number }) =>
      err.status === 400 && /currentPassword: that is not your current password/.test(err.message),
  );
  const r = await s.auth.changePassword(
    user,
    { currentPassword: "operator password", newPassword: "a new long password" },
    here,
    actor,
  );
  assert.equal(r.endedSessions, 1);
  assert.match(r.session ?? "", /^cse_/);
  assert.equal((await s.auth.userForSession(r.session!))?.email, "op@example.com", "this browser");
  assert.equal(await s.auth.userForSession(here), undefined, "a copy of its old cookie is out");
  assert.equal(await s.auth.userForSession(elsewhere), undefined);
  // another user's cookie (or none: a token's caller) renews nothing and is left alone
  const first = await db.user.findUniqueOrThrow({ where: { email: admin.email } });
  const foreign = await s.auth.startSession(first.id);
  const other = await s.auth.changePassword(
    user,
    { currentPassword: "a new long password", newPassword: "a new long password" },
    foreign,
    actor,
  );
  assert.deepEqual(other, { endedSessions: 1 });
  assert.equal((await s.auth.userForSession(foreign))?.email, admin.email);
  await assert.rejects(s.auth.loginForSession(login, "10.0.0.1"), /wrong email or password/);
  await s.auth.loginForSession({ ...login, password: "a new long password" }, "10.0.0.1");
});

test("API tokens: the secret once, last used, revoked; admins see and revoke everyone's", async () => {
  const op = { ...(await db.user.findUniqueOrThrow({ where: { email: "op@example.com" } })) };
  const adm = await db.user.findUniqueOrThrow({ where: { email: admin.email } });
  const t = await s.tokens.create(op, { name: "ci-deploy" }, actor);
  assert.match(t.token, /^cat_/);
  assert.equal(t.lastUsedAt, null);
  assert.equal((await s.auth.userForToken(t.token))?.email, "op@example.com");
  const listed = (await s.tokens.list(op)).find((x) => x.id === t.id);
  assert.ok(listed?.lastUsedAt, "last use recorded");
  assert.equal(
    (listed as unknown as Record<string, unknown>).token,
    undefined,
    "no secret in a list",
  );
  const mine = await s.tokens.create(adm, { name: "admin-script" }, actor);
  assert.ok(
    !(await s.tokens.list(op)).some((x) => x.id === mine.id),
    "an operator sees only theirs",
  );
  await assert.rejects(s.tokens.revoke(op, mine.id, actor), /no token/);
  assert.ok(
    (await s.tokens.list(adm)).some((x) => x.id === t.id),
    "an admin sees everyone's",
  );
  await s.tokens.revoke(adm, t.id, actor);
  assert.equal(await s.auth.userForToken(t.token), undefined);
  await assert.rejects(s.tokens.revoke(adm, t.id, actor), /no token/);
});

test("failed logins are audited with the email and address, never the password; a lock once", async () => {
  // Its own limits (2 failures per account): the shared service's are not used up here.
  const auth = new AuthService(
    db,
    s.audit,
    new LoginLimits({ perAccount: 2, perAddress: 100, windowSeconds: 900 }),
  );
  const guess = "Tr0ub4dor&3-guess";
  const from = "203.0.113.9";
  const failures = async () =>
    (await s.audit.list({ action: LOGIN_FAILED, limit: 200 })).entries.filter((e) => e.ip === from);
  await assert.rejects(
    auth.loginForSession({ email: "op@example.com", password: guess }, from),
    /wrong email or password/,
  );
  await assert.rejects(
    auth.loginForToken({ email: "ghost@example.com", password: guess }, from),
    /wrong email or password/,
  );
  let seen = await failures();
  assert.deepEqual(
    seen.map((e) => [e.target, e.userId, e.detail]),
    [
      ["ghost@example.com", null, { via: "token", reason: "unknown email" }],
      ["op@example.com", null, { via: "session", reason: "wrong password" }],
    ],
  );
  // The account's second failure locks it: the next five tries are refused (429) and the
  // audit log gets one entry for the lock, not five.
  await assert.rejects(
    auth.loginForSession({ email: "op@example.com", password: guess }, from),
    /wrong email or password/,
  );
  for (let i = 0; i < 5; i++) {
    await assert.rejects(
      auth.loginForSession({ email: "op@example.com", password: "a new long password" }, from),
      (err: Error & { status?: number }) => err.status === 429,
    );
  }
  seen = await failures();
  assert.equal(seen.length, 4, JSON.stringify(seen));
  assert.deepEqual(seen[0]?.detail, {
    via: "session",
    reason: "rate-limited",
    limitedBy: "account",
    retryAfterSeconds: seen[0]?.detail.retryAfterSeconds,
  });
  assert.ok(Number(seen[0]?.detail.retryAfterSeconds) > 890);
  // A wrong current password on the password change is one too, by the logged-in user (the
  // shared service: this account is locked in the one above).
  const op = await db.user.findUniqueOrThrow({ where: { email: "op@example.com" } });
  await assert.rejects(
    s.auth.changePassword(
      op,
      { currentPassword: guess, newPassword: "yet another password" },
      undefined,
      { userId: op.id, ip: "198.51.100.20" },
    ),
    /currentPassword/,
  );
  const [pw] = (await s.audit.list({ action: LOGIN_FAILED, text: "198.51.100.20" })).entries;
  assert.deepEqual(
    [pw?.user, pw?.target, pw?.detail.via],
    ["op@example.com", "op@example.com", "password-change"],
  );
  const rows = await db.auditEntry.findMany();
  assert.ok(!rows.some((r) => JSON.stringify(r).includes(guess)), "no password is kept");
});

test("login tokens: named after the address, 30 days, expired ones refused, unlisted, cleared", async () => {
  const op = await db.user.findUniqueOrThrow({ where: { email: "op@example.com" } });
  const login = { email: "op@example.com", password: "a new long password" };
  const t0 = Date.now();
  const first = await s.auth.loginForToken(login, "203.0.113.10");
  const ttl = first.expiresAt.getTime() - t0;
  assert.ok(ttl >= LOGIN_TOKEN_TTL_MS - 5000 && ttl <= LOGIN_TOKEN_TTL_MS + 5000);
  const named = await s.tokens.create(op, { name: "nightly" }, actor);
  const weekly = await s.tokens.create(op, { name: "weekly", expiresInDays: 7 }, actor);
  const listed = await s.tokens.list(op);
  const row = (name: string) => listed.find((t) => t.name === name);
  assert.equal(row("login from 203.0.113.10")?.kind, "login");
  assert.equal(row("login from 203.0.113.10")?.expiresAt, first.expiresAt.toISOString());
  assert.deepEqual([row("nightly")?.kind, row("nightly")?.expiresAt], ["named", null]);
  const week = Date.parse(row("weekly")?.expiresAt ?? "") - t0;
  assert.ok(Math.abs(week - 7 * 86400_000) < 5000, `weekly expires in ${week} ms`);
  assert.equal(named.expiresAt, null);
  assert.equal(weekly.kind, "named");

  // Time passes: the login token's 30 days are over.
  const hash = (await db.apiToken.findFirstOrThrow({ where: { name: "login from 203.0.113.10" } }))
    .tokenHash;
  await db.apiToken.update({
    where: { tokenHash: hash },
    data: { expiresAt: new Date(Date.now() - 1000) },
  });
  assert.equal(await s.auth.userForToken(first.token), undefined, "refused");
  assert.ok(!(await s.tokens.list(op)).some((t) => t.name === "login from 203.0.113.10"));
  assert.equal((await s.auth.userForToken(named.token))?.email, "op@example.com");
  // the next login clears this user's expired login tokens: they do not pile up
  await s.auth.loginForToken(login, "203.0.113.11");
  assert.equal(await db.apiToken.count({ where: { tokenHash: hash } }), 0);
  assert.throws(
    () => createTokenInput.parse({ name: "x", expiresInDays: 0 }),
    /expiresInDays is at least 1/,
  );
});

test("the audit log: every change above, secrets masked, filtered, paged, pushed", async () => {
  const pushed: AuditView[] = [];
  s.audit.entries.on("entry", (e: AuditView) => pushed.push(e));
  await s.audit.record(actor, "container.create", "c1", {
    image: "app",
    env: ["PORT=80", "DB_PASSWORD=hunter2"],
    password: "hunter2",
  });
  assert.equal(pushed.length, 1);
  assert.deepEqual(pushed[0]?.detail, {
    image: "app",
    env: ["PORT=80", `DB_PASSWORD=${MASK}`],
    password: MASK,
  });
  assert.ok(!(await db.auditEntry.findMany()).some((e) => e.detail.includes("hunter2")));
  const { token } = await s.joinTokens.create("http://x", actor);
  await s.hosts.join(
    {
      token,
      name: "joined",
      facts: { ...SIM_FACTS, hostname: "h" },
    },
    "192.0.2.4",
  );
  const { entries } = await s.audit.list({ limit: 200 });
  const actions = new Set(entries.map((e) => e.action));
  for (const a of [
    "setup.admin",
    "user.create",
    "user.role",
    "user.remove",
    "user.login",
    LOGIN_FAILED,
    "user.password",
    "token.create",
    "token.revoke",
    "container.create",
    "host.join-token",
    "host.join",
  ])
    assert.ok(actions.has(a), `${a} is audited`);
  assert.equal(entries[0]?.action, "host.join");
  assert.equal(entries[0]?.ip, "192.0.2.4", "the agent's address");
  assert.equal(entries[1]?.ip, "198.51.100.7");
  const users = await s.audit.list({ action: "user." });
  assert.ok(users.entries.every((e) => e.action.startsWith("user.")));
  const text = await s.audit.list({ text: "ci-deploy" });
  assert.deepEqual(
    text.entries.map((e) => e.action),
    ["token.revoke", "token.create"],
  );
  const page1 = await s.audit.list({ limit: 3 });
  const page2 = await s.audit.list({ limit: 3, before: page1.next! });
  assert.equal(page1.entries.length, 3);
  assert.ok(page2.entries.every((e) => e.id < page1.entries[2]!.id));
});

test("a container's env: every value masked for a viewer, in full for an operator", async () => {
  const host = await db.host.create({ data: { name: "h", credentialHash: "x" } });
  await db.container.create({
    data: {
      id: "a".repeat(64),
      hostId: host.id,
      name: "app",
      image: "app",
      state: "running",
      env: JSON.stringify(["PATH=/bin", "API_KEY=s3cret"]),
    },
  });
  const viewer = await s.containers.env("a".repeat(64), "viewer");
  assert.equal(viewer.revealed, false);
  assert.deepEqual(
    viewer.entries.map((e) => `${e.name}=${e.value}`),
    [`PATH=${MASK}`, `API_KEY=${MASK}`],
  );
  assert.ok(!JSON.stringify(viewer).includes("s3cret"));
  const operator = await s.containers.env("a".repeat(64), "operator");
  assert.deepEqual(
    operator.entries.map((e) => `${e.name}=${e.value}`),
    ["PATH=/bin", "API_KEY=s3cret"],
  );
});
