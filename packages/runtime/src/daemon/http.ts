// A minimal router for the daemon's local HTTP API (a dozen fixed routes over a unix socket;
// a framework would add more than it saves here).
import type { IncomingMessage, ServerResponse } from "node:http";
import { UserError } from "../util/errors.js";
import { logUnexpected } from "./faults.js";

export interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  body(): Promise<unknown>;
}

type Handler = (r: Request) => Promise<unknown>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

const MAX_JSON_BODY = 1024 * 1024;

export class Router {
  private routes: Route[] = [];

  on(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      "^" +
        path.replace(/:([a-zA-Z]+)/g, (_m, key: string) => {
          keys.push(key);
          return "([^/]+)";
        }) +
        "$",
    );
    this.routes.push({ method, pattern, keys, handler });
    return this;
  }

  /** Never rejects: every error answers this request (or closes its socket) and no other. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = requestUrl(req);
      for (const route of this.routes) {
        if (route.method !== req.method) continue;
        const m = route.pattern.exec(url.pathname);
        if (!m) continue;
        const params: Record<string, string> = {};
        route.keys.forEach((k, i) => (params[k] = decodeParam(m[i + 1] ?? "")));
        const result = await route.handler({
          req,
          res,
          params,
          query: url.searchParams,
          body: () => readJson(req),
        });
        if (!res.headersSent) sendJson(res, 200, result ?? {});
        else if (!res.writableEnded) res.end();
        return;
      }
      throw new UserError(`no route ${req.method} ${url.pathname}`, 404);
    } catch (err) {
      const status =
        err instanceof UserError
          ? err.status
          : (err as { exitCode?: unknown }).exitCode !== undefined
            ? 400
            : 500;
      if (status === 500) logUnexpected(`${req.method} ${req.url}`, err);
      const message = (err as Error).message;
      const exitCode = (err as { exitCode?: unknown }).exitCode;
      if (!res.headersSent && !res.destroyed)
        sendJson(res, status, typeof exitCode === "number" ? { message, exitCode } : { message });
      else res.destroy();
    }
  }
}

/** A path segment, %-decoded; a bad escape (`%zz`) is the client's error. */
export function decodeParam(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new UserError(`malformed %-escape in ${JSON.stringify(segment)}`);
  }
}

/** The request's URL; a request line that is not one (`GET //[`) is the client's error. */
export function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? "/", "http://corral");
  } catch {
    throw new UserError(`malformed request target: ${JSON.stringify(req.url)}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(data),
  });
  res.end(data);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BODY) throw new UserError("request body too large");
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new UserError("request body is not valid JSON");
  }
}

/**
 * Aborted when the client goes away before the response is complete (a CLI killed mid-pull),
 * so the work done for it stops too.
 */
export function disconnectSignal(res: ServerResponse): AbortSignal {
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableEnded) abort.abort();
  });
  if (res.destroyed) abort.abort();
  return abort.signal;
}
