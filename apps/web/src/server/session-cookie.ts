// The session cookie's Set-Cookie values: one set of attributes for the cookie a login or setup
// sets and the one a logout clears. A browser replaces a cookie only by one with the same name,
// path and domain, and (RFC 6265bis) an http answer cannot overwrite a Secure cookie: a
// clearing cookie that lacks Secure may leave the https session cookie in place.
import { SESSION_COOKIE, SESSION_TTL_MS } from "./services/auth.ts";

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
