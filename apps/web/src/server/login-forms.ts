// The login and setup pages' forms posted natively (POST /login, POST /setup): what a browser
// does when the form is sent before React has hydrated it (a slow phone, a busy server) or
// without JavaScript. The same services as the JSON routes (/api/v1/auth/session,
// /api/v1/setup): the same rate limits and audit entries, the same session cookie; then a 303
// to where the user was going, or back to the page with the one-line error (?error=). Never a
// GET: credentials in a URL end up in history, logs and Referer headers.
import type { IncomingMessage, ServerResponse } from "node:http";
import { localPath } from "../login-params.ts";
import { clientAddress, sessionCookie } from "./auth-request.ts";
import { fromOtherSite } from "./csrf.ts";
import { AppError, badRequest, toAppError } from "./errors.ts";
import type { Services } from "./services/index.ts";
import { loginInput } from "./services/auth.ts";
import { setupInput } from "./services/setup.ts";

/** The paths whose POST this module answers (the pages' own URLs). */
export const FORM_PATHS = new Set(["/login", "/setup"]);

const MAX_FORM = 16 * 1024;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw badRequest("send the form as application/x-www-form-urlencoded");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_FORM) throw badRequest("form over 16 KiB");
    chunks.push(c as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function redirect(res: ServerResponse, location: string, cookie?: string): void {
  // A relative Location: right behind any proxy.
  res.writeHead(303, { location, ...(cookie ? { "set-cookie": cookie } : {}) });
  res.end();
}

/** Answers POST /login and POST /setup (FORM_PATHS). */
export async function handleLoginForm(
  s: Services,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const login = url.pathname === "/login";
  let next = localPath(url.searchParams.get("next"));
  try {
    // Login CSRF: a page elsewhere must not log this browser into an account of its choosing.
    if (fromOtherSite(req)) throw new AppError(403, "a login must come from this site's own page");
    const form = await readForm(req);
    if (login) {
      next = localPath(form.get("next") ?? url.searchParams.get("next"));
      const { session } = await s.auth.loginForSession(
        loginInput.parse({ email: form.get("email") ?? "", password: form.get("password") ?? "" }),
        clientAddress(req),
      );
      return redirect(res, next, sessionCookie(session, req));
    }
    if (form.get("password") !== form.get("confirm")) throw badRequest("the two passwords differ");
    const { session } = await s.setup.complete(
      setupInput.parse({
        token: form.get("token") ?? "",
        email: form.get("email") ?? "",
        password: form.get("password") ?? "",
      }),
      clientAddress(req),
    );
    return redirect(res, "/", sessionCookie(session, req));
  } catch (err) {
    const e = toAppError(err);
    if (e.status === 500) console.error(err);
    // The message only (never what was typed): the page shows it as its one-line error.
    const back = new URLSearchParams({ error: e.message });
    if (login && next !== "/") back.set("next", next);
    redirect(res, `${url.pathname}?${back}`);
  }
}
