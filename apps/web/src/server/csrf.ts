// CSRF: a change (POST, PUT, PATCH, DELETE) authenticated by the session cookie alone must
// come from the dashboard: the x-corral-csrf header, or the browser's own Sec-Fetch-Site:
// same-origin (plain form posts). Bearer tokens are not ambient: scripts are not asked.
import type { IncomingMessage } from "node:http";
import { CSRF_HEADER } from "../csrf-header.ts";
import { cookie } from "./auth-request.ts";
import { SESSION_COOKIE } from "./services/auth.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Why the request is refused as cross-site, or undefined when it may go on. */
export function csrfRefusal(req: IncomingMessage): string | undefined {
  if (SAFE_METHODS.has(req.method ?? "GET")) return undefined;
  if (/^Bearer\s/i.test(req.headers.authorization ?? "")) return undefined;
  if (!cookie(req.headers.cookie, SESSION_COOKIE)) return undefined;
  if (req.headers[CSRF_HEADER] === "1") return undefined;
  if (req.headers["sec-fetch-site"] === "same-origin") return undefined;
  return `a change made with the session cookie needs the ${CSRF_HEADER}: 1 header (cross-site requests are refused)`;
}
