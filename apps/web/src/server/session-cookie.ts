// The session cookie's Set-Cookie values: one set of attributes for the cookie a login or setup
// sets and the one a logout clears. A browser replaces a cookie only by one with the same name,
// path and domain, and (RFC 6265bis) an http answer cannot overwrite a Secure cookie: a
// clearing cookie that lacks Secure may leave the https session cookie in place.
import type { IncomingMessage } from "node:http";
import { SESSION_COOKIE, SESSION_TTL_MS } from "./services/auth.ts";

/**
 * Set by the custom server on every request it hands to Next.js (src/server/app.ts): "1" when
 * the browser came over https (directly or via a trusted proxy), else "0". A client's own value
 * is overwritten, so pages and route handlers (app/logout) can believe it.
 */
export const HTTPS_HEADER = "x-corral-https";

/**
 * The session cookie as a Set-Cookie value: httpOnly (no script reads it), SameSite=Lax (no
 * cross-site POST carries it), the whole site's path, Secure whenever the browser used https.
 * `maxAgeSeconds` 0 removes it.
 */
export function sessionCookieHeader(value: string, maxAgeSeconds: number, https: boolean): string {
  const secure = https ? "; Secure" : "";
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${maxAgeSeconds}${secure}`;
}

/** Set-Cookie of a new session (login, setup). */
export function setSessionCookie(session: string, https: boolean): string {
  return sessionCookieHeader(session, SESSION_TTL_MS / 1000, https);
}

/** Set-Cookie that removes the session cookie (logout): the same attributes, expired. */
export function clearSessionCookie(https: boolean): string {
  return sessionCookieHeader("", 0, https);
}

/** Marks a request for Next.js with what the custom server knows of its scheme (HTTPS_HEADER). */
export function markHttps(req: IncomingMessage, https: boolean): void {
  req.headers[HTTPS_HEADER] = https ? "1" : "0";
}
