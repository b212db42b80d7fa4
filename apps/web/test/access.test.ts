// Users and roles through the real server, a real agent and a private runtime: an admin makes
// a viewer and an operator; the viewer reads but every write is 403 (REST) / FORBIDDEN (tRPC);
// the operator's container really runs; only an admin manages users.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { io } from "socket.io-client";
import { BROWSER_NAMESPACE } from "@corral/protocol";
import { TEST_IMAGE_NAME } from "../../../packages/runtime/test/fixtures/images.ts";
import { createDb } from "../src/server/db.ts";
import { startStack, waitFor, type Stack } from "./fixtures/stack.ts";

let stack: Stack;
let hostId: string;
const tokens: Record<"viewer" | "operator", string> = { viewer: "", operator: "" };

before(async () => {
  stack = await startStack("access");
  const jt = await stack.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens");
  assert.equal(jt.status, 200);
  stack.startAgent({ name: "access-host", token: jt.body.token });
  hostId = await waitFor("host online", async () => {
    const r = await stack.api<Array<{ id: string; status: string }>>("GET", "/api/v1/hosts");
    return r.body.find((h) => h.status === "online")?.id;
  });
});
after(async () => {
  await stack?.cleanup();
});

async function tokenFor(email: string, password: string): Promise<string> {
  const r = await stack.api<{ token: string }>(
    "POST",
    "/api/v1/auth/login",
    { email, password },
    null,
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.token;
}

test("an admin creates users; bad input is a 400 naming the field, a taken email 409", async () => {
  for (const role of ["viewer", "operator"] as const) {
    const r = await stack.api<{ id: string; email: string; role: string }>(
      "POST",
      "/api/v1/users",
      { email: `${role}@example.com`, password: `${role} password!`, role },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.role, role);
    assert.equal((r.body as Record<string, unknown>).passwordHash, undefined);
    tokens[role] = await tokenFor(`${role}@example.com`, `${role} password!`);
  }
  const bad = await stack.api<{ error: string }>("POST", "/api/v1/users", {
    email: "x@example.com",
    password: "long enough password",
    role: "root",
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /^role: role must be one of viewer, operator, admin/);
  const short = await stack.api<{ error: string }>("POST", "/api/v1/users", {
    email: "y@example.com",
    password: "short",
    role: "viewer",
  });
  assert.equal(short.status, 400);
  assert.match(short.body.error, /^password: /);
  const taken = await stack.api("POST", "/api/v1/users", {
    email: "viewer@example.com",
    password: "another password",
    role: "admin",
  });
  assert.equal(taken.status, 409);
  const list = await stack.api<Array<{ email: string; role: string }>>("GET", "/api/v1/users");
  assert.deepEqual(
    list.body.map((u) => [u.email, u.role]),
    [
      ["admin@example.com", "admin"],
      ["viewer@example.com", "viewer"],
      ["operator@example.com", "operator"],
    ],
  );
});

test("a viewer reads but may not write: 403 on REST, FORBIDDEN on tRPC; nothing is created", async () => {
  const v = tokens.viewer;
  assert.equal((await stack.api("GET", "/api/v1/containers", undefined, v)).status, 200);
  assert.equal((await stack.api("GET", "/api/trpc/containers.list", undefined, v)).status, 200);
  const spec = { hostId, image: TEST_IMAGE_NAME, name: "by-viewer", cmd: ["sleep", "1000"] };
  const rest = await stack.api<{ error: string }>("POST", "/api/v1/containers", spec, v);
  assert.equal(rest.status, 403);
  assert.match(rest.body.error, /your role \(viewer\) may not containers\.write/);
  const trpc = await stack.api<{ error: { data: { code: string } } }>(
    "POST",
    "/api/trpc/containers.create",
    spec,
    v,
  );
  assert.equal(trpc.status, 403);
  assert.equal(trpc.body.error.data.code, "FORBIDDEN");
  for (const [method, path] of [
    ["GET", "/api/v1/users"],
    ["POST", "/api/v1/users"],
    ["POST", "/api/v1/hosts/join-tokens"],
    ["POST", "/api/v1/images/pull"],
  ] as const) {
    const body = method === "GET" ? undefined : {};
    assert.equal((await stack.api(method, path, body, v)).status, 403, `${method} ${path}`);
  }
  // no token at all: 401 before anything else
  assert.equal((await stack.api("POST", "/api/v1/containers", spec, null)).status, 401);
  const all = await stack.api<Array<{ name: string }>>("GET", "/api/v1/containers");
  assert.ok(!all.body.some((c) => c.name === "by-viewer"));
});

test("an operator creates and removes a container, but may not manage users or hosts", async () => {
  const o = tokens.operator;
  const c = await stack.api<{ id: string; state: string }>(
    "POST",
    "/api/v1/containers",
    { hostId, image: TEST_IMAGE_NAME, name: "by-operator", cmd: ["sleep", "1000"] },
    o,
  );
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.equal(c.body.state, "running");
  const viaTrpc = await stack.api<{ result: { data: { state: string } } }>(
    "POST",
    "/api/trpc/containers.action",
    { id: c.body.id, action: "stop" },
    o,
  );
  assert.equal(viaTrpc.status, 200, JSON.stringify(viaTrpc.body));
  assert.equal(viaTrpc.body.result.data.state, "exited");
  assert.equal(
    (await stack.api("DELETE", `/api/v1/containers/${c.body.id}`, undefined, o)).status,
    200,
  );
  assert.equal((await stack.api("GET", "/api/v1/users", undefined, o)).status, 403);
  assert.equal((await stack.api("POST", "/api/v1/hosts/join-tokens", {}, o)).status, 403);
});

test("a browser's login gets a session cookie and no API token; a script's a token and no cookie", async () => {
  const db = createDb(stack.databaseUrl);
  try {
    const before = await db.apiToken.count();
    const creds = JSON.stringify({ email: "viewer@example.com", password: "viewer password!" });
    const headers = { "content-type": "application/json" };
    const browser = await fetch(`${stack.url}/api/v1/auth/session`, {
      method: "POST",
      headers,
      body: creds,
    });
    assert.equal(browser.status, 200);
    assert.deepEqual(await browser.json(), {
      user: { email: "viewer@example.com", role: "viewer" },
    });
    const cookie = browser.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^corral_session=cse_[^;]+; HttpOnly; SameSite=Lax; Path=\//);
    assert.equal(await db.apiToken.count(), before, "no API token for a browser login");
    // the cookie alone reads
    const list = await fetch(`${stack.url}/api/v1/containers`, {
      headers: { cookie: cookie.split(";")[0] as string },
    });
    assert.equal(list.status, 200);

    const script = await fetch(`${stack.url}/api/v1/auth/login`, {
      method: "POST",
      headers,
      body: creds,
    });
    assert.equal(script.status, 200);
    assert.equal(script.headers.get("set-cookie"), null);
    assert.match(((await script.json()) as { token: string }).token, /^cat_/);
    assert.equal(await db.apiToken.count(), before + 1);
  } finally {
    await db.$disconnect();
  }
});

test("a login token is named after its address, lasts 30 days, and once expired is refused and unlisted", async () => {
  const db = createDb(stack.databaseUrl);
  try {
    const r = await stack.api<{ token: string; expiresAt: string }>(
      "POST",
      "/api/v1/auth/login",
      { email: "viewer@example.com", password: "viewer password!" },
      null,
    );
    assert.equal(r.status, 200);
    const days = (Date.parse(r.body.expiresAt) - Date.now()) / 86400_000;
    assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`);
    type Token = { id: string; name: string; kind: string; expiresAt: string | null };
    const mine = await stack.api<Token[]>("GET", "/api/v1/tokens", undefined, r.body.token);
    const row = mine.body.find((t) => t.expiresAt === r.body.expiresAt);
    assert.deepEqual([row?.name, row?.kind], ["login from 127.0.0.1", "login"]);
    const named = await stack.api<Token & { token: string }>(
      "POST",
      "/api/v1/tokens",
      { name: "viewer-script" },
      r.body.token,
    );
    assert.deepEqual([named.body.kind, named.body.expiresAt], ["named", null]);

    // 30 days later
    await db.apiToken.update({
      where: { id: row!.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const rest = await stack.api<{ error: string }>(
      "GET",
      "/api/v1/containers",
      undefined,
      r.body.token,
    );
    assert.equal(rest.status, 401);
    const trpc = await stack.api("GET", "/api/trpc/containers.list", undefined, r.body.token);
    assert.equal(trpc.status, 401);
    // the live socket takes a browser's session only: no token opens it, an expired one neither
    const socket = io(stack.url + BROWSER_NAMESPACE, {
      transports: ["websocket"],
      reconnection: false,
      extraHeaders: { authorization: `Bearer ${r.body.token}` },
    });
    const refused = await new Promise<string>((resolve) => {
      socket.once("connect", () => resolve("connected"));
      socket.once("connect_error", (err) => resolve(err.message));
    });
    socket.close();
    assert.equal(refused, "log in first");
    const listed = await stack.api<Token[]>("GET", "/api/v1/tokens");
    assert.ok(!listed.body.some((t) => t.id === row!.id), "an admin does not see it either");
    assert.ok(listed.body.some((t) => t.id === named.body.id));
    // the named token made with it works on
    const still = await stack.api("GET", "/api/v1/containers", undefined, named.body.token);
    assert.equal(still.status, 200);
  } finally {
    await db.$disconnect();
  }
});

test("ten failed logins of an account: 429 with Retry-After, even with the right password", async () => {
  const login = (password: string) =>
    fetch(`${stack.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "operator@example.com", password }),
    });
  for (let i = 0; i < 10; i++) assert.equal((await login("wrong password")).status, 401);
  const limited = await login("operator password!");
  assert.equal(limited.status, 429);
  const wait = Number(limited.headers.get("retry-after"));
  assert.ok(wait > 0 && wait <= 900, `Retry-After: ${limited.headers.get("retry-after")}`);
  assert.match(((await limited.json()) as { error: string }).error, /too many failed logins/);
  // another account from the same address still logs in (the address has its own budget)
  assert.ok(await tokenFor("viewer@example.com", "viewer password!"));
});

test("login CSRF: a page elsewhere cannot log a browser in (a text/plain form carrying JSON)", async () => {
  const body = JSON.stringify({ email: "admin@example.com", password: "correct horse" });
  const crossSite: Array<Record<string, string>> = [
    { "sec-fetch-site": "cross-site" },
    { "sec-fetch-site": "same-site" },
    { origin: "https://evil.example" },
  ];
  for (const headers of crossSite) {
    const r = await fetch(`${stack.url}/api/v1/auth/session`, {
      method: "POST",
      headers: { "content-type": "text/plain", ...headers },
      body,
    });
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.equal(r.headers.get("set-cookie"), null);
    assert.match(((await r.json()) as { error: string }).error, /this site's own page/);
  }
  // the login page's own request, and a script's (no browser headers), still log in
  const own: Array<Record<string, string>> = [{ "sec-fetch-site": "same-origin" }, {}];
  for (const headers of own) {
    const r = await fetch(`${stack.url}/api/v1/auth/session`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    assert.equal(r.status, 200, JSON.stringify(headers));
  }
});

test("CSRF: a change made with the session cookie alone (cross-site) is refused; the dashboard's header passes", async () => {
  const login = await fetch(`${stack.url}/api/v1/auth/session`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-corral-csrf": "1" },
    body: JSON.stringify({ email: "admin@example.com", password: "correct horse" }),
  });
  assert.equal(login.status, 200);
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
  const newUser = { email: "csrf@example.com", password: "csrf password!", role: "admin" };
  const post = (path: string, headers: Record<string, string>, body: object = newUser) =>
    fetch(`${stack.url}${path}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const crossSite: Array<Record<string, string>> = [
    {},
    { "sec-fetch-site": "cross-site" },
    { "sec-fetch-site": "same-site" },
  ];
  for (const headers of crossSite) {
    const r = await post("/api/v1/users", headers);
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.match(
      ((await r.json()) as { error: string }).error,
      /needs the x-corral-csrf: 1 header/,
    );
    assert.equal((await post("/api/trpc/hosts.createJoinToken", headers)).status, 403);
  }
  const users = await stack.api<Array<{ email: string }>>("GET", "/api/v1/users");
  assert.ok(!users.body.some((u) => u.email === "csrf@example.com"), "nothing was created");
  // reads need nothing more; the dashboard's header (or a same-origin fetch) may change things
  const list = await fetch(`${stack.url}/api/v1/users`, { headers: { cookie } });
  assert.equal(list.status, 200);
  assert.equal((await post("/api/v1/users", { "x-corral-csrf": "1" })).status, 200);
  assert.equal(
    (await post("/api/trpc/hosts.createJoinToken", { "sec-fetch-site": "same-origin" }, {})).status,
    200,
  );
});
