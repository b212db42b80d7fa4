// A small JSON router for /api/v1 (method + path pattern -> handler), with the errors every
// route shares: zod failures are 400 naming the field, AppErrors carry their status.
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { AppError, badRequest, toAppError } from "../errors.ts";

export interface RestRequest {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  body(): Promise<unknown>;
}

type Handler = (r: RestRequest) => Promise<unknown>;

/** What /api/v1/openapi.json says about a route: made from the schemas the route parses. */
export interface RouteDoc {
  summary: string;
  /** false: no Authorization needed */
  auth?: boolean;
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
    handler: Handler;
    doc: RouteDoc | undefined;
  }> = [];

  on(method: string, path: string, handler: Handler, doc?: RouteDoc): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      "^" +
        path.replace(/:([a-zA-Z]+)/g, (_m, k: string) => {
          keys.push(k);
          return "([^/]+)";
        }) +
        "$",
    );
    this.routes.push({ method, path, pattern, keys, handler, doc });
    return this;
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
        ...(r.doc.auth === false ? { security: [] } : {}),
        responses: {
          "200": { description: "OK" },
          "400": { description: "bad input: the message names the field" },
          ...(r.doc.auth === false ? {} : { "401": { description: "no or bad token" } }),
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
      const result = await route.handler({
        req,
        res,
        params,
        query: url.searchParams,
        body: () => readJson(req),
      });
      if (!res.headersSent) sendJson(res, 200, result ?? {});
    } catch (err) {
      const e = toAppError(err);
      if (e.status === 500) console.error(err);
      if (!res.headersSent) sendJson(res, e.status, { error: e.message });
      else res.destroy();
    }
    return true;
  }
}
