// Every tRPC procedure, every REST route and every browser socket event × every role, as tables
// made from the routers themselves: a new one is covered (and one without a permission fails)
// without touching this file. The services are a trap: a caller that is let through reaches
// them (or fails on its missing input), one that is not never does.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, mock, test } from "node:test";
import { EventEmitter } from "node:events";
import { TRPCError } from "@trpc/server";
import { LastSamples } from "../sockets/last-samples.ts";
import { can, PERMISSIONS, ROLES, type Permission } from "../permissions.ts";
import { restRoutes } from "../rest/routes.ts";
import type { Services } from "../services/index.ts";
import { attachBrowserLive, SOCKET_PERMISSIONS, socketGate } from "../sockets/browser-live.ts";
import { appRouter } from "./root.ts";
import type { Context, Meta } from "./trpc.ts";

const REACHED = "reached the services";
/** Any property of any service throws, except the few the wiring reads (auth: token = role). */
const trap = (): object =>
  new Proxy(
    {},
    {
      get: () => {
        throw new Error(REACHED);
      },
    },
  );
const services = new Proxy({} as Services, {
  get: (_t, name) => {
    if (name === "auth")
      return {
        userForToken: async (role: string) => ({ id: "u1", email: `${role}@example.com`, role }),
        userForSession: async () => undefined,
        renewals: new EventEmitter(),
        sessions: new EventEmitter(),
      };
    if (name === "hub") return { changes: new EventEmitter(), stats: new LastSamples() };
    if (name === "audit") return { entries: new EventEmitter() };
    // the live channel subscribes to these at start; a handler never reaches them here
    if (name === "hostStats" || name === "notices" || name === "webhooks" || name === "tokens")
      return { changes: new EventEmitter() };
    if (name === "events") return { lastId: async () => 0, after: async () => [] };
    return trap();
  },
});

function context(role: string | undefined): Context {
  return {
    services,
    user: role ? { id: "u1", email: `${role}@example.com`, role } : undefined,
    actor: { userId: role ? "u1" : null, ip: "127.0.0.1" },
    req: { headers: {}, socket: {} } as IncomingMessage,
  };
}

async function call(role: string | undefined, path: string): Promise<string> {
  let fn: unknown = appRouter.createCaller(context(role));
  for (const part of path.split(".")) fn = (fn as Record<string, unknown>)[part];
  try {
    await (fn as (input?: unknown) => Promise<unknown>)(undefined);
    return "OK";
  } catch (err) {
    return err instanceof TRPCError ? err.code : String(err);
  }
}

const procedures = Object.entries(appRouter._def.procedures as Record<string, unknown>).map(
  ([path, p]) => ({
    path,
    permission: (p as { _def: { meta?: Meta } })._def.meta?.permission,
  }),
);

test("every procedure declares a permission from the table", () => {
  assert.ok(procedures.length > 5, "the router's procedures are listed");
  for (const p of procedures) {
    assert.ok(p.permission && p.permission in PERMISSIONS, `${p.path} has no permission`);
  }
});

test("every role × every procedure: FORBIDDEN below the permission, let through at or above", async () => {
  for (const { path, permission } of procedures) {
    assert.equal(await call(undefined, path), "UNAUTHORIZED", `${path} without a session`);
    for (const role of ROLES) {
      const code = await call(role, path);
      if (can(role, permission!)) {
        assert.notEqual(code, "FORBIDDEN", `${role} may ${path}`);
        assert.notEqual(code, "UNAUTHORIZED", `${role} may ${path}`);
      } else {
        assert.equal(code, "FORBIDDEN", `${role} may not ${path}`);
      }
    }
  }
});

test("a viewer may read but not create a container; an operator may", async () => {
  assert.equal(await call("viewer", "containers.create"), "FORBIDDEN");
  assert.notEqual(await call("operator", "containers.create"), "FORBIDDEN");
  assert.equal(await call("operator", "hosts.createJoinToken"), "FORBIDDEN");
  assert.notEqual(await call("viewer", "containers.list"), "FORBIDDEN");
  assert.equal(await call("operator", "users.setRole"), "FORBIDDEN");
  assert.equal(await call("operator", "audit.list"), "FORBIDDEN");
  assert.notEqual(await call("viewer", "account.changePassword"), "FORBIDDEN");
});

// REST: the real router over HTTP; the bearer token is the caller's role.
const rest = restRoutes(services);
/** The only routes anyone may call: adding a public route means adding it here, on purpose. */
const PUBLIC_ROUTES = new Set([
  "GET /api/v1/health",
  "GET /api/v1/openapi.json",
  "POST /api/v1/auth/login",
  "POST /api/v1/auth/session",
  "POST /api/v1/agents/join",
  "GET /api/v1/setup",
  "POST /api/v1/setup",
  "POST /logout",
]);
let base = "";
const server = createServer((req, res) => {
  void rest.handle(req, res, new URL(req.url ?? "/", "http://x")).then((handled) => {
    if (!handled) res.writeHead(599).end();
  });
});
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function restCall(method: string, path: string, role?: string): Promise<number> {
  const res = await fetch(base + path.replace(/:([a-zA-Z]+)/g, "x1"), {
    method,
    headers: role ? { authorization: `Bearer ${role}` } : {},
  });
  await res.arrayBuffer();
  return res.status;
}

test("every REST route has a permission (or is a listed public route)", () => {
  const routes = rest.list();
  assert.ok(routes.length > 10, "the routes are listed");
  for (const r of routes) {
    const name = `${r.method} ${r.path}`;
    if (r.access === "public") assert.ok(PUBLIC_ROUTES.has(name), `${name} is public`);
    else assert.ok(r.access in PERMISSIONS, `${name}: ${String(r.access)} is no permission`);
  }
});

test("every role × every REST route: 401 without a token, 403 below the permission", async () => {
  mock.method(console, "error", () => undefined); // the trap's 500s are expected here
  for (const r of rest.list()) {
    if (r.access === "public") continue;
    const name = `${r.method} ${r.path}`;
    assert.equal(await restCall(r.method, r.path), 401, `${name} without a token`);
    for (const role of ROLES) {
      const status = await restCall(r.method, r.path, role);
      if (can(role, r.access)) {
        assert.ok(![401, 403, 599].includes(status), `${role} may ${name} (got ${status})`);
      } else {
        assert.equal(status, 403, `${role} may not ${name}`);
      }
    }
  }
});

// Socket events: the handlers the live channel really registers, through the gate it uses.
function registeredEvents(): string[] {
  const events: string[] = [];
  let onConnection: ((socket: unknown) => void) | undefined;
  const ns = {
    on: (event: string, fn: (socket: unknown) => void) => {
      if (event === "connection") onConnection = fn;
    },
    to: () => ({ emit: () => undefined }),
    adapter: { rooms: new Map() },
  };
  attachBrowserLive(ns as never, services);
  onConnection?.({
    data: { user: { id: "u1", email: "a@example.com", role: "admin" } },
    request: { headers: {}, socket: { remoteAddress: "127.0.0.1" } },
    handshake: { address: "127.0.0.1" },
    join: () => undefined,
    use: () => undefined,
    emit: () => undefined,
    on: (event: string) => events.push(event),
  });
  return events.filter((e) => e !== "disconnect");
}

test("every browser socket event the server handles has a permission", () => {
  const events = registeredEvents();
  assert.ok(events.length >= 5, "the handlers are listed");
  for (const e of events) {
    const p = (SOCKET_PERMISSIONS as Record<string, Permission | undefined>)[e];
    assert.ok(p && p in PERMISSIONS, `socket event ${e} has no permission`);
  }
});

test("every role × every socket event: refused in words below the permission, passed above", () => {
  for (const event of [...registeredEvents(), "no-such-event"]) {
    const permission = (SOCKET_PERMISSIONS as Record<string, Permission | undefined>)[event];
    for (const role of ROLES) {
      let passed = false;
      let answer: { ok: boolean; error?: string } | undefined;
      socketGate(role)([event, {}, (a: { ok: boolean; error?: string }) => (answer = a)], () => {
        passed = true;
      });
      const allowed = permission !== undefined && can(role, permission);
      assert.equal(passed, allowed, `${role} ${event}`);
      if (!allowed) assert.equal(answer?.ok, false, `${role} ${event} is answered`);
    }
  }
});
