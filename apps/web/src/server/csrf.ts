// CSRF: a change (POST, PUT, PATCH, DELETE) authenticated by the session cookie alone must
// come from the dashboard: the x-corral-csrf header, or the browser's own Sec-Fetch-Site:
// same-origin (plain form posts). Bearer tokens are not ambient: scripts are not asked.
// Login CSRF: the requests that set the session cookie (the login and setup pages' JSON routes
// and their native form posts, server/login-forms.ts) need no cookie to be sent, so a browser
// that says it comes from another site is refused there too: a page elsewhere must not log a
// visitor into an account of its choosing (a text/plain form can carry a JSON body).
import type { IncomingMessage } from "node:http";
import { CSRF_HEADER } from "../csrf-header.ts";
import { cookie, ownOrigins } from "./auth-request.ts";
import { SESSION_COOKIE } from "./services/auth.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** The JSON routes that answer with a new session cookie (rest/routes.ts). */
const SESSION_ROUTES = new Set(["/api/v1/auth/session", "/api/v1/setup"]);

/**
 * Whether a browser says the request comes from a page of another origin: Sec-Fetch-Site, or
 * Origin where an older browser sends no Sec-Fetch-Site. Scripts (curl, agents) send neither.
 */
export function fromOtherSite(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site) return site !== "same-origin" && site !== "none";
  const origin = req.headers.origin;
  return origin !== undefined && !ownOrigins(req).includes(origin);
}

/** Why the request is refused as cross-site, or undefined when it may go on. */
export function csrfRefusal(req: IncomingMessage): string | undefined {
  if (SAFE_METHODS.has(req.method ?? "GET")) return undefined;
  if (SESSION_ROUTES.has(new URL(req.url ?? "/", "http://corral").pathname) && fromOtherSite(req))
    return "a login must come from this site's own page (cross-site requests are refused)";
  if (/^Bearer\s/i.test(req.headers.authorization ?? "")) return undefined;
  if (!cookie(req.headers.cookie, SESSION_COOKIE)) return undefined;
  if (req.headers[CSRF_HEADER] === "1") return undefined;
  if (req.headers["sec-fetch-site"] === "same-origin") return undefined;
  return `a change made with the session cookie needs the ${CSRF_HEADER}: 1 header (cross-site requests are refused)`;
}
