// Who is calling: a bearer token (scripts) or the session cookie (browsers). One function for
// REST, tRPC and socket.io.
import type { IncomingMessage } from "node:http";
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

/** The caller's address (the socket's: no proxy header is trusted yet). */
export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "";
}

export function actorOf(user: AuthUser | undefined, req: IncomingMessage): Actor {
  return { userId: user?.id ?? null, ip: clientAddress(req) };
}

/** The URL agents reach this server at: CORRAL_PUBLIC_URL, else what the caller used. */
export function publicUrl(req: IncomingMessage): string {
  if (process.env.CORRAL_PUBLIC_URL) return process.env.CORRAL_PUBLIC_URL.replace(/\/$/, "");
  return `http://${req.headers.host ?? "localhost"}`;
}
