// POST /logout: ends this browser's session (the row, then the cookie) and goes to the login page.
import { headers } from "next/headers";
import { NextResponse } from "next/server";
import { clearSessionCookie, HTTPS_HEADER } from "../../src/server/session-cookie.ts";
import { hashSecret } from "../../src/server/tokens.ts";
import { pageDb, sessionCookie } from "../_server/session.ts";

export async function POST() {
  const session = await sessionCookie();
  if (session) await pageDb().session.deleteMany({ where: { tokenHash: hashSecret(session) } });
  // A relative Location: right behind any proxy.
  const res = new NextResponse(null, { status: 303, headers: { location: "/login" } });
  // Cleared with the attributes it was set with (Secure over https), or a browser may keep it;
  // the custom server says whether this request came over https (it knows the trusted proxies).
  const https = (await headers()).get(HTTPS_HEADER) === "1";
  res.headers.append("set-cookie", clearSessionCookie(https));
  return res;
}
