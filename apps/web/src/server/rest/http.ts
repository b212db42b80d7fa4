// A small JSON router for /api/v1 (method + path pattern -> handler), with the errors every
// route shares: zod failures are 400 naming the field, AppErrors carry their status. Deny by
// default: a route cannot be added without its access (a permission, or "public"), and the
// router checks it before the handler runs.
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { AppError, badRequest, TooManyRequests, toAppError, unauthorized } from "../errors.ts";
import { authorize, type Permission } from "../permissions.ts";
import type { Actor } from "../services/audit.ts";
import type { AuthUser } from "../services/auth.ts";

export interface RestRequest {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  body(): Promise<unknown>;
}
/** A request that passed its route's permission: who made it. */
export interface AuthedRestRequest extends RestRequest {
  user: AuthUser;
  actor: Actor;
}

type Handler = (r: RestRequest) => Promise<unknown>;
type AuthedHandler = (r: AuthedRestRequest) => Promise<unknown>;
/** Who may call a route: anyone ("public"), or a caller whose role has the permission. */
export type Access = Permission | "public";

export interface RestAuth {
  /** The caller of a request (bearer token or session cookie), if any. */
  authenticate(req: IncomingMessage): Promise<AuthUser | undefined>;
  actorOf(user: AuthUser, req: IncomingMessage): Actor;
}

/** What /api/v1/openapi.json says about a route: made from the schemas the route parses. */
export interface RouteDoc {
  summary: string;
  body?: z.ZodType;
  query?: z.ZodObject;
}

const MAX_BODY = 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new AppError(400, "request body over 1 MiB");
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("the body is not JSON");
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export class RestRouter {
  private readonly routes: Array<{
    method: string;
    path: string;
    pattern: RegExp;
    keys: string[];
    access: Access;
    handler: AuthedHandler | Handler;
    doc: RouteDoc | undefined;
  }> = [];

  constructor(private readonly auth: RestAuth) {}

  on(method: string, path: string, access: "public", handler: Handler, doc?: RouteDoc): this;
  on(
    method: string,
    path: string,
    access: Permission,
    handler: AuthedHandler,
    doc?: RouteDoc,
  ): this;
  on(
    method: string,
    path: string,
    access: Access,
    handler: AuthedHandler | Handler,
    doc?: RouteDoc,
  ): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      "^" +
        path.replace(/:([a-zA-Z]+)/g, (_m, k: string) => {
          keys.push(k);
          return "([^/]+)";
        }) +
        "$",
    );
    this.routes.push({ method, path, pattern, keys, access, handler, doc });
    return this;
  }

  /** Every route with its access (the authorization test walks them all). */
  list(): Array<{ method: string; path: string; access: Access }> {
    return this.routes.map(({ method, path, access }) => ({ method, path, access }));
  }

  /** OpenAPI 3.1 from the routes' own zod schemas (nothing described twice). */
  openapi(info: { title: string; version: string }): object {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      if (!r.doc) continue;
      const path = r.path.replace(/:([a-zA-Z]+)/g, "{$1}");
      const parameters = [
        ...r.keys.map((k) => ({ name: k, in: "path", required: true, schema: { type: "string" } })),
        ...Object.entries(r.doc.query?.shape ?? {}).map(([name, schema]) => ({
          name,
          in: "query",
          required: !(schema as z.ZodType).safeParse(undefined).success,
          schema: z.toJSONSchema(schema as z.ZodType, { io: "input", unrepresentable: "any" }),
        })),
      ];
      (paths[path] ??= {})[r.method.toLowerCase()] = {
        summary: r.doc.summary,
        ...(parameters.length ? { parameters } : {}),
        ...(r.doc.body
          ? {
              requestBody: {
                required: true,
                content: {
                  "application/json": {
                    schema: z.toJSONSchema(r.doc.body, { io: "input", unrepresentable: "any" }),
                  },
                },
              },
            }
          : {}),
        ...(r.access === "public" ? { security: [] } : {}),
        responses: {
          "200": { description: "OK" },
          "400": { description: "bad input: the message names the field" },
          ...(r.access === "public"
            ? {}
            : {
                "401": { description: "no or bad token" },
                "403": { description: `the caller's role may not ${r.access}` },
              }),
          "404": { description: "unknown host or container" },
          "409": { description: "the host is offline (or the runtime refused)" },
        },
      };
    }
    return {
      openapi: "3.1.0",
      info,
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
      paths,
    };
  }

  /** Handles the request if a route's path matches; false when none does. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
    if (matching.length === 0) return false;
    const route = matching.find((r) => r.method === req.method);
    try {
      if (!route) throw new AppError(404, `${req.method} ${url.pathname} is not a route`);
      const m = route.pattern.exec(url.pathname) as RegExpExecArray;
      const params = Object.fromEntries(
        route.keys.map((k, i) => [k, decodeURIComponent(m[i + 1] as string)]),
      );
      const request: RestRequest = {
        req,
        res,
        params,
        query: url.searchParams,
        body: () => readJson(req),
      };
      let result: unknown;
      if (route.access === "public") {
        result = await (route.handler as Handler)(request);
      } else {
        const user = await this.auth.authenticate(req);
        if (!user) throw unauthorized();
        authorize(user.role, route.access);
        const actor = this.auth.actorOf(user, req);
        result = await (route.handler as AuthedHandler)({ ...request, user, actor });
      }
      if (!res.headersSent) sendJson(res, 200, result ?? {});
    } catch (err) {
      const e = toAppError(err);
      if (e.status === 500) console.error(err);
      if (!res.headersSent && e instanceof TooManyRequests) {
        res.setHeader("retry-after", String(e.retryAfterSeconds));
      }
      if (!res.headersSent) sendJson(res, e.status, { error: e.message });
      else res.destroy();
    }
    return true;
  }
}
