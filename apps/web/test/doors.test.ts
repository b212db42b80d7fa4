// The web server's doors over real HTTP (no runtime needed): first-run setup with the printed
// token, CSP with a per-response nonce on pages, Secure cookies and real client addresses behind
// a trusted proxy (and a client spoofing X-Forwarded-* believed in nothing), 400/401/403/429.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { cookieAttributes as attributes } from "./fixtures/set-cookie.ts";
import { startWebStack, type WebStack } from "./fixtures/stack.ts";

let fresh: WebStack;
let proxied: WebStack;
let direct: WebStack;

before(async () => {
  [fresh, proxied, direct] = await Promise.all([
    startWebStack("doors-setup", { firstAdmin: false }),
    startWebStack("doors-proxied", {
      env: { CORRAL_TRUSTED_PROXIES: "127.0.0.1/32, 10.9.0.0/16" },
    }),
    startWebStack("doors-direct"),
  ]);
});
after(async () => {
  await Promise.all([fresh?.cleanup(), proxied?.cleanup(), direct?.cleanup()]);
});

const json = { "content-type": "application/json" };
const post = (s: WebStack, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(s.url + path, {
    method: "POST",
    headers: { ...json, ...headers },
    body: JSON.stringify(body),
  });

test("first run: the login page points to setup, which needs the printed token, then closes", async () => {
  assert.match(fresh.setupToken, /^cst_[\w-]{20,}$/, "the server printed a setup token");
  assert.equal(
    (await fresh.api<{ open: boolean }>("GET", "/api/v1/setup", undefined, null)).body.open,
    true,
  );
  const login = await (await fetch(`${fresh.url}/login`)).text();
  assert.match(login, /href="\/setup"/);
  const admin = { email: "owner@example.com", password: "owner's long password" };
  const wrong = await post(fresh, "/api/v1/setup", { ...admin, token: "cst_guessed" });
  assert.equal(wrong.status, 403);
  assert.match(((await wrong.json()) as { error: string }).error, /wrong setup token/);
  const short = await post(fresh, "/api/v1/setup", {
    ...admin,
    password: "short",
    token: fresh.setupToken,
  });
  assert.equal(short.status, 400);
  assert.match(((await short.json()) as { error: string }).error, /^password: /);
  const ok = await post(fresh, "/api/v1/setup", { ...admin, token: fresh.setupToken });
  assert.equal(ok.status, 200);
  const cookie = ok.headers.get("set-cookie") ?? "";
  assert.match(cookie, /^corral_session=cse_[^;]+; HttpOnly; SameSite=Lax/);
  // the new session works at once: the fleet page renders for it
  const home = await fetch(`${fresh.url}/`, {
    headers: { cookie: cookie.split(";")[0]! },
    redirect: "manual",
  });
  assert.equal(home.status, 200);
  const again = await post(fresh, "/api/v1/setup", {
    ...admin,
    email: "x@example.com",
    token: fresh.setupToken,
  });
  assert.equal(again.status, 409);
  assert.match(((await again.json()) as { error: string }).error, /set up already/);
  assert.equal(
    (await fresh.api<{ open: boolean }>("GET", "/api/v1/setup", undefined, null)).body.open,
    false,
  );
  const setupPage = await fetch(`${fresh.url}/setup`, { redirect: "manual" });
  assert.equal(setupPage.status, 307);
  assert.equal(new URL(setupPage.headers.get("location")!, fresh.url).pathname, "/login");
  assert.doesNotMatch(await (await fetch(`${fresh.url}/login`)).text(), /href="\/setup"/);
});

test("pages carry a CSP whose scripts need this response's nonce; every answer has the headers", async () => {
  const a = await fetch(`${direct.url}/login`);
  const b = await fetch(`${direct.url}/login`);
  const csp = a.headers.get("content-security-policy") ?? "";
  const script = /script-src ([^;]+)/.exec(csp)?.[1] ?? "";
  assert.doesNotMatch(script, /unsafe-inline/);
  const nonce = /'nonce-([^']+)'/.exec(script)?.[1];
  assert.ok(nonce, csp);
  assert.notEqual(b.headers.get("content-security-policy"), csp, "a new nonce per response");
  assert.match(csp, /frame-ancestors 'none'/);
  const html = await a.text();
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.ok(scripts.length > 0);
  for (const tag of scripts) {
    if (/\bsrc=/.test(tag) && !/nonce=/.test(tag)) continue; // 'self' covers them
    assert.match(tag, new RegExp(`nonce="${nonce!.replace(/[+/=]/g, "\\$&")}"`), tag);
  }
  for (const path of ["/login", "/api/v1/health", "/api/v1/nope", "/no-such-page"]) {
    const r = await fetch(direct.url + path);
    assert.equal(r.headers.get("x-frame-options"), "DENY", path);
    assert.equal(r.headers.get("x-content-type-options"), "nosniff", path);
    assert.match(r.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/, path);
  }
});

test("the session cookie is Secure when a trusted proxy says https, never on a client's word", async () => {
  const creds = { email: "admin@example.com", password: "correct horse" };
  const https = { "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.5" };
  const viaProxy = await post(proxied, "/api/v1/auth/session", creds, https);
  assert.equal(viaProxy.status, 200);
  assert.match(viaProxy.headers.get("set-cookie") ?? "", /; Secure$/);
  const plainProxy = await post(proxied, "/api/v1/auth/session", creds, {
    "x-forwarded-proto": "http",
  });
  assert.doesNotMatch(plainProxy.headers.get("set-cookie") ?? "", /Secure/);
  const spoofed = await post(direct, "/api/v1/auth/session", creds, https);
  assert.equal(spoofed.status, 200);
  assert.doesNotMatch(spoofed.headers.get("set-cookie") ?? "", /Secure/);
  // the audit log names the real client: the proxy's X-Forwarded-For, the spoofer's own address
  type Audit = { entries: Array<{ action: string; ip: string }> };
  const p = await proxied.api<Audit>("GET", "/api/v1/audit?action=user.login&limit=5");
  assert.deepEqual(
    p.body.entries.slice(0, 2).map((e) => e.ip),
    ["127.0.0.1", "203.0.113.5"],
    "the plain proxied login (no X-Forwarded-For), then the forwarded one",
  );
  const d = await direct.api<Audit>("GET", "/api/v1/audit?action=user.login&limit=1");
  assert.equal(d.body.entries[0]?.ip, "127.0.0.1");
});

test("logout clears the cookie with login's attributes: Secure behind a trusted https proxy only", async () => {
  const creds = { email: "admin@example.com", password: "correct horse" };
  const cases: Array<{ s: WebStack; headers: Record<string, string>; secure: boolean }> = [
    { s: proxied, headers: { "x-forwarded-proto": "https" }, secure: true },
    { s: proxied, headers: { "x-forwarded-proto": "http" }, secure: false },
    // a client's own X-Forwarded-Proto, or a header of its own claiming https, is believed by
    // nobody
    { s: direct, headers: { "x-forwarded-proto": "https", "x-corral-https": "1" }, secure: false },
  ];
  for (const { s, headers, secure } of cases) {
    const login = await post(s, "/api/v1/auth/session", creds, headers);
    const set = login.headers.get("set-cookie") ?? "";
    const out = await fetch(`${s.url}/logout`, {
      method: "POST",
      headers: { ...headers, cookie: set.split(";")[0]! },
      redirect: "manual",
    });
    assert.equal(out.status, 303);
    const cleared = out.headers.get("set-cookie") ?? "";
    assert.match(cleared, /^corral_session=; /);
    assert.match(cleared, /; Max-Age=0(;|$)/);
    assert.deepEqual(attributes(cleared), attributes(set), JSON.stringify(headers));
    assert.equal(attributes(cleared).includes("Secure"), secure, cleared);
    // the session itself is over: the cookie no longer opens a page
    const page = await fetch(`${s.url}/`, {
      headers: { cookie: set.split(";")[0]! },
      redirect: "manual",
    });
    assert.equal(page.status, 307);
  }
});

test("a password change renews this browser's cookie (same attributes), on REST and tRPC", async () => {
  const user = { email: "pw@example.com", password: "first long password", role: "operator" };
  assert.equal((await proxied.api("POST", "/api/v1/users", user)).status, 200);
  const https = { "x-forwarded-proto": "https", "x-corral-csrf": "1" };
  let password = user.password;
  for (const door of ["rest", "trpc"] as const) {
    const login = await post(proxied, "/api/v1/auth/session", { ...user, password }, https);
    const old = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const next = `${password} again`;
    const body = { currentPassword: password, newPassword: next };
    const r =
      door === "rest"
        ? await post(proxied, "/api/v1/auth/password", body, { ...https, cookie: old })
        : await post(proxied, "/api/trpc/account.changePassword", body, { ...https, cookie: old });
    assert.equal(r.status, 200, door);
    const renewed = r.headers.get("set-cookie") ?? "";
    assert.match(
      renewed,
      /^corral_session=cse_[^;]+; HttpOnly; SameSite=Lax; Path=\/; Max-Age=604800; Secure$/,
    );
    assert.doesNotMatch(await r.text(), /cse_/, "the secret is in the cookie only");
    const page = (cookie: string) =>
      fetch(`${proxied.url}/`, { headers: { cookie }, redirect: "manual" }).then((p) => p.status);
    assert.equal(await page(renewed.split(";")[0]!), 200, `${door}: this browser stays in`);
    assert.equal(await page(old), 307, `${door}: a copy of the old cookie is out`);
    password = next;
  }
});

test("the new routes: 401 without a token, 403 below the permission, 400 naming the field", async () => {
  const s = direct;
  assert.equal((await s.api("GET", "/api/v1/tokens", undefined, null)).status, 401);
  assert.equal((await s.api("GET", "/api/v1/audit", undefined, null)).status, 401);
  const viewer = await s.api<{ id: string }>("POST", "/api/v1/users", {
    email: "v@example.com",
    password: "viewer password!",
    role: "viewer",
  });
  assert.equal(viewer.status, 200);
  const login = await s.api<{ token: string }>(
    "POST",
    "/api/v1/auth/login",
    {
      email: "v@example.com",
      password: "viewer password!",
    },
    null,
  );
  const v = login.body.token;
  assert.equal((await s.api("GET", "/api/v1/audit", undefined, v)).status, 403);
  assert.equal(
    (await s.api("PATCH", `/api/v1/users/${viewer.body.id}`, { role: "admin" }, v)).status,
    403,
  );
  assert.equal((await s.api("GET", "/api/v1/tokens", undefined, v)).status, 200, "own tokens");
  const bad = await s.api<{ error: string }>("PATCH", `/api/v1/users/${viewer.body.id}`, {
    role: "root",
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /^role: role must be one of viewer, operator, admin/);
  const noName = await s.api<{ error: string }>("POST", "/api/v1/tokens", { name: " " });
  assert.equal(noName.status, 400);
  assert.match(noName.body.error, /^name: name is required/);
  const pw = await s.api<{ error: string }>(
    "POST",
    "/api/v1/auth/password",
    {
      currentPassword: "not it",
      newPassword: "a brand new password",
    },
    v,
  );
  assert.equal(pw.status, 400);
  assert.match(pw.body.error, /currentPassword: that is not your current password/);
  // the last admin stays
  const users = await s.api<Array<{ id: string; role: string }>>("GET", "/api/v1/users");
  const admin = users.body.find((u) => u.role === "admin")!;
  const demote = await s.api<{ error: string }>("PATCH", `/api/v1/users/${admin.id}`, {
    role: "viewer",
  });
  assert.equal(demote.status, 409);
  assert.match(demote.body.error, /is the last admin/);
});

// Last: it uses up 127.0.0.1's failed-login budget on the direct server.
test("failed logins count per real client: behind the proxy per forwarded address, spoofing changes nothing", async () => {
  const fail = (s: WebStack, i: number, xff: string) =>
    post(
      s,
      "/api/v1/auth/login",
      { email: `nobody${i}@example.com`, password: "x" },
      {
        "x-forwarded-for": xff,
      },
    );
  // 30 failures per address within 15 minutes (README): the 31st is 429 with Retry-After.
  // A new spoofed address each time: all count for 127.0.0.1 (the test above spent one).
  let limited: Response | undefined;
  for (let i = 0; i <= 30 && !limited; i++) {
    const r = await fail(direct, i, `198.51.100.${i}`);
    if (r.status === 429) limited = r;
    else assert.equal(r.status, 401);
  }
  assert.ok(limited, "the spoofing client is limited within 31 tries");
  assert.ok(Number(limited.headers.get("retry-after")) > 0);
  for (let i = 0; i < 30; i++)
    assert.equal((await fail(proxied, i, "10.9.0.1, 198.51.100.1")).status, 401);
  for (let i = 90; i < 100; i++)
    assert.equal((await fail(proxied, i, "198.51.100.1")).status, 429, "that client is limited");
  assert.equal((await fail(proxied, 98, "198.51.100.2")).status, 401, "another client is not");

  // Every failure is in the audit log with the email tried and the real address; the ten
  // refused (429) tries are one entry for the address's lock, not ten.
  type Audit = { entries: Array<{ target: string; ip: string; detail: Record<string, unknown> }> };
  const log = await proxied.api<Audit>(
    "GET",
    "/api/v1/audit?action=user.login.failed&text=198.51.100.1&limit=200",
  );
  const fromClient = log.body.entries.filter((e) => e.ip === "198.51.100.1");
  assert.equal(fromClient.length, 31, "30 wrong passwords and one lock");
  assert.deepEqual(fromClient[0]?.detail, {
    via: "token",
    reason: "rate-limited",
    limitedBy: "address",
    retryAfterSeconds: fromClient[0]?.detail.retryAfterSeconds,
  });
  assert.equal(fromClient[0]?.target, "nobody90@example.com");
  assert.deepEqual(fromClient.at(-1)?.detail, { via: "token", reason: "unknown email" });
  assert.equal(fromClient.at(-1)?.target, "nobody0@example.com");
  assert.ok(!JSON.stringify(log.body).includes('"x"'), "no password");
  const other = await proxied.api<Audit>(
    "GET",
    "/api/v1/audit?action=user.login.failed&text=198.51.100.2",
  );
  assert.deepEqual(
    other.body.entries.map((e) => [e.ip, e.target]),
    [["198.51.100.2", "nobody98@example.com"]],
  );
});
