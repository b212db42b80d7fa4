// Every tRPC procedure × every role, as a table made from the router itself: a new procedure
// is covered (and one without a permission fails) without touching this file. The services
// are a trap: a caller that is let through reaches them (or fails on its missing input), one
// that is not never does.
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { test } from "node:test";
import { TRPCError } from "@trpc/server";
import { can, PERMISSIONS, ROLES } from "../permissions.ts";
import type { Services } from "../services/index.ts";
import { appRouter } from "./root.ts";
import type { Context, Meta } from "./trpc.ts";

const REACHED = "reached the services";
const services = new Proxy({} as Services, {
  get: () => {
    throw new Error(REACHED);
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
});
