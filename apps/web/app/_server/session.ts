// Who is looking at a page: the session cookie, checked on the server before anything renders.
import { cookies } from "next/headers";
import { createDb, type Db } from "../../src/server/db.ts";
import { AuditService } from "../../src/server/services/audit.ts";
import { AuthService, SESSION_COOKIE, type AuthUser } from "../../src/server/services/auth.ts";

// Next.js loads page modules apart from the custom server's: one client for all of them.
const pages = globalThis as { corralPageDb?: Db };
export function pageDb(): Db {
  return (pages.corralPageDb ??= createDb());
}

export async function sessionCookie(): Promise<string | undefined> {
  return (await cookies()).get(SESSION_COOKIE)?.value;
}

export async function currentUser(): Promise<AuthUser | undefined> {
  const session = await sessionCookie();
  return session
    ? new AuthService(pageDb(), new AuditService(pageDb())).userForSession(session)
    : undefined;
}
