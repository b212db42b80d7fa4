// The browsers' socket.io namespace: a connection needs a valid session cookie, and comes from
// one of this server's own pages: a browser that sends an Origin (every cross-site WebSocket
// and XHR does) must send this server's, so a foreign page cannot ride the cookie. Agents use
// their own namespace and credentials, and are not asked.
import type { IncomingMessage } from "node:http";
import type { Server } from "socket.io";
import { BROWSER_NAMESPACE } from "@corral/protocol";
import { cookie, ownOrigins } from "../auth-request.ts";
import { SESSION_COOKIE } from "../services/auth.ts";
import type { Services } from "../services/index.ts";
import { attachBrowserLive } from "./browser-live.ts";

export function attachBrowserNamespace(
  io: Server,
  services: Services,
  opts: { cluster?: boolean } = {},
): void {
  const ns = io.of(BROWSER_NAMESPACE);
  ns.use((socket, next) => {
    const refusal = foreignOrigin(socket.request);
    if (refusal) return next(new Error(refusal));
    const session = cookie(socket.handshake.headers.cookie, SESSION_COOKIE);
    if (!session) return next(new Error("log in first"));
    services.auth.userForSession(session).then(
      (user) => {
        if (!user) return next(new Error("session expired: log in again"));
        socket.data.user = user;
        socket.data.session = session; // checked again when the user changes (browser-live.ts)
        next();
      },
      (err: Error) => next(err),
    );
  });
  attachBrowserLive(ns, services, opts);
}

/** Why a handshake is refused as coming from another site, or undefined. */
export function foreignOrigin(req: IncomingMessage): string | undefined {
  const origin = req.headers.origin;
  const site = req.headers["sec-fetch-site"];
  if (origin !== undefined && !ownOrigins(req).includes(origin)) {
    return `origin ${origin} is not this server's: open Corral's own page`;
  }
  if (site === "cross-site" || site === "same-site") {
    return "a cross-site connection is refused: open Corral's own page";
  }
  return undefined;
}
