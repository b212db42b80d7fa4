// A small JSON router for /api/v1 (method + path pattern -> handler), with the errors every
// route shares: zod failures are 400 naming the field, AppErrors carry their status. Deny by
// default: a route cannot be added without its access (a permission, or "public"), and the
// router checks it, then parses the body and query with the schemas its doc names, before the
// handler runs.
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { AppError, badRequest, TooManyRequests, toAppError, unauthorized } from "../errors.ts";
import { authorize, type Permission } from "../permissions.ts";
import type { Actor } from "../services/audit.ts";
import type { AuthUser } from "../services/auth.ts";

/** A path's `:name` parts, each a string: `/containers/:id/:action` gives `{id, action}`. */
export type PathParams<P extends string> = P extends `${string}:${infer K}/${infer Rest}`
  ? { [k in K]: string } & PathParams<Rest>
  : P extends `${string}:${infer K}`
    ? { [k in K]: string }
    : Record<never, string>;

/** What a schema of the route's doc parsed to; undefined when the route declares none. */
type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RestRequest<P = Record<string, string>, B = unknown, Q = unknown> {
  req: IncomingMessage;
  res: ServerResponse;
  params: P;
  /** the JSON body, parsed with the route's `body` schema (undefined without one) */
  body: B;
  /** the query string, parsed with the route's `query` schema (undefined without one) */
  query: Q;
}
/** A request that passed its route's permission: who made it. */
export interface AuthedRestRequest<
  P = Record<string, string>,
  B = unknown,
  Q = unknown,
> extends RestRequest<P, B, Q> {
  user: AuthUser;
  actor: Actor;
}

/** Who may call a route: anyone ("public"), or a caller whose role has the permission. */
export type Access = Permission | "public";

export interface RestAuth {
  /** The caller of a request (bearer token or session cookie), if any. */
  authenticate(req: IncomingMessage): Promise<AuthUser | undefined>;
  actorOf(user: AuthUser, req: IncomingMessage): Actor;
}

/**
 * A route's input and what /api/v1/openapi.json says about it: the router parses the body and
 * the query with these very schemas (a 400 naming the field) before the handler runs, so the
 * document describes what is parsed, and each schema is named once.
 */
export interface RouteDoc<
  B extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodObject | undefined = z.ZodObject | undefined,
> {
  summary: string;
  body?: B;
  query?: Q;
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

/** Any route's handler, as the router stores it (each `on` types its own). */
type StoredHandler = (r: RestRequest | AuthedRestRequest) => unknown;

export class RestRouter {
  private readonly routes: Array<{
    method: string;
    path: string;
    pattern: RegExp;
    keys: string[];
    access: Access;
    doc: RouteDoc;
    handler: StoredHandler;
  }> = [];

  constructor(private readonly auth: RestAuth) {}

  /**
   * A route: method, path, who may call it, its doc (summary, body and query schemas), then
   * what it does. The handler's answer is sent as JSON ({} for none) unless it wrote its own.
   */
  on<
    P extends string,
    B extends z.ZodType | undefined = undefined,
    Q extends z.ZodObject | undefined = undefined,
  >(
    method: string,
    path: P,
    access: "public",
    doc: RouteDoc<B, Q>,
    handler: (r: RestRequest<PathParams<P>, Parsed<B>, Parsed<Q>>) => unknown,
  ): this;
  on<
    P extends string,
    B extends z.ZodType | undefined = undefined,
    Q extends z.ZodObject | undefined = undefined,
  >(
    method: string,
    path: P,
    access: Permission,
    doc: RouteDoc<B, Q>,
    handler: (r: AuthedRestRequest<PathParams<P>, Parsed<B>, Parsed<Q>>) => unknown,
  ): this;
  on(
    method: string,
    path: string,
    access: Access,
    doc: RouteDoc,
    handler: (r: never) => unknown,
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
    this.routes.push({
      method,
      path,
      pattern,
      keys,
      access,
      doc,
      handler: handler as StoredHandler,
    });
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
      const { doc } = route;
      // Parsed once the caller may call the route: a 400 tells nothing to one who may not.
      const request = async (): Promise<RestRequest> => ({
        req,
        res,
        params,
        query: doc.query ? doc.query.parse(Object.fromEntries(url.searchParams)) : undefined,
        body: doc.body ? doc.body.parse(await readJson(req)) : undefined,
      });
      let result: unknown;
      if (route.access === "public") {
        result = await route.handler(await request());
      } else {
        const user = await this.auth.authenticate(req);
        if (!user) throw unauthorized();
        authorize(user.role, route.access);
        const actor = this.auth.actorOf(user, req);
        result = await route.handler({ ...(await request()), user, actor });
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
