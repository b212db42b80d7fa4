// tRPC's building blocks: the context (services + who calls), and the procedures routers use.
// Authorization is middleware (roleProcedure, with a permission from permissions.ts), never an
// `if` inside a procedure; no procedure is made without one.
import type { IncomingMessage, ServerResponse } from "node:http";
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { describeZodError } from "@corral/protocol";
import { actorOf, authenticate } from "../auth-request.ts";
import { toAppError, trpcCode } from "../errors.ts";
import { authorize, type Permission } from "../permissions.ts";
import type { Services } from "../services/index.ts";

export async function createContext(
  services: Services,
  req: IncomingMessage,
  /** for a procedure that sets a cookie (account.changePassword) */
  res?: ServerResponse,
) {
  const user = await authenticate(services.auth, req.headers);
  return { services, user, actor: actorOf(user, req), req, ...(res ? { res } : {}) };
}
export type Context = Awaited<ReturnType<typeof createContext>>;

/** What a procedure requires; the authorization test reads it from every procedure. */
export interface Meta {
  permission: Permission;
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    errorFormatter({ shape, error }) {
      const cause = error.cause;
      const message = cause instanceof ZodError ? describeZodError(cause) : shape.message;
      return { ...shape, message };
    },
  });

/** Service errors keep their meaning: a 404 is NOT_FOUND, a 409 CONFLICT, ... */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (
    !result.ok &&
    !(result.error.cause instanceof ZodError) &&
    result.error.code === "INTERNAL_SERVER_ERROR"
  ) {
    const e = toAppError(result.error.cause ?? result.error);
    throw new TRPCError({ code: trpcCode(e), message: e.message, cause: e });
  }
  return result;
});

export const router = t.router;
const baseProcedure = t.procedure.use(mapErrors);

/**
 * The only procedure builder routers get: a caller without a session or token is UNAUTHORIZED,
 * one whose role is below the permission's FORBIDDEN (before the input is even parsed).
 */
export function roleProcedure(permission: Permission) {
  return baseProcedure.meta({ permission }).use(({ ctx, next }) => {
    if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "log in first" });
    authorize(ctx.user.role, permission); // a 403 AppError: mapErrors makes it FORBIDDEN
    return next({ ctx: { ...ctx, user: ctx.user } });
  });
}
