// Who is calling: a bearer token (scripts) or the session cookie (browsers). One function for
// REST, tRPC and socket.io.
import type { IncomingMessage } from "node:http";
import { trustedProxies } from "./proxy-trust.ts";
import { clearSessionCookie, setSessionCookie } from "./session-cookie.ts";
import { SESSION_COOKIE, type AuthUser, type AuthService } from "./services/auth.ts";
import type { Actor } from "./services/audit.ts";

export function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name)
      return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export async function authenticate(
  auth: AuthService,
  headers: IncomingMessage["headers"],
): Promise<AuthUser | undefined> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "")?.[1];
  if (bearer) return auth.userForToken(bearer);
  const session = cookie(headers.cookie, SESSION_COOKIE);
  return session ? auth.userForSession(session) : undefined;
}

/** The caller's address: the peer's, or X-Forwarded-For's from a trusted proxy. */
export function clientAddress(req: IncomingMessage): string {
  return trustedProxies().clientAddress(req);
}

/** https directly, or behind a trusted proxy that says so. */
export function isHttps(req: IncomingMessage): boolean {
  return trustedProxies().isHttps(req);
}

/** The Set-Cookie value of a new session: Secure whenever the browser came over https. */
export function sessionCookie(session: string, req: IncomingMessage): string {
  return setSessionCookie(session, isHttps(req));
}

/** The Set-Cookie value that removes the session cookie (logout), with the attributes it had. */
export function clearedSessionCookie(req: IncomingMessage): string {
  return clearSessionCookie(isHttps(req));
}

/** The origins a page of this server has: CORRAL_PUBLIC_URL's and the one the browser used. */
export function ownOrigins(req: IncomingMessage): string[] {
  const origins = [`${isHttps(req) ? "https" : "http"}://${req.headers.host ?? ""}`];
  if (process.env.CORRAL_PUBLIC_URL) origins.push(new URL(process.env.CORRAL_PUBLIC_URL).origin);
  return origins;
}

export function actorOf(user: AuthUser | undefined, req: IncomingMessage): Actor {
  return { userId: user?.id ?? null, ip: clientAddress(req) };
}

/** The URL agents reach this server at: CORRAL_PUBLIC_URL, else what the caller used. */
export function publicUrl(req: IncomingMessage): string {
  if (process.env.CORRAL_PUBLIC_URL) return process.env.CORRAL_PUBLIC_URL.replace(/\/$/, "");
  return `${isHttps(req) ? "https" : "http"}://${req.headers.host ?? "localhost"}`;
}
