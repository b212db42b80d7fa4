// POST /logout: ends this browser's session (the row, then the cookie) and goes to the login page.
import { NextResponse } from "next/server";
import { SESSION_COOKIE } from "../../src/server/services/auth.ts";
import { hashSecret } from "../../src/server/tokens.ts";
import { pageDb, sessionCookie } from "../_server/session.ts";

export async function POST() {
  const session = await sessionCookie();
  if (session) await pageDb().session.deleteMany({ where: { tokenHash: hashSecret(session) } });
  // A relative Location: right behind any proxy.
  const res = new NextResponse(null, { status: 303, headers: { location: "/login" } });
  res.cookies.set(SESSION_COOKIE, "", { httpOnly: true, sameSite: "lax", path: "/", maxAge: 0 });
  return res;
}
