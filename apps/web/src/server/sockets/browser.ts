// The browsers' socket.io namespace: a connection needs a valid session cookie (the live
// pages that use it come with the dashboard).
import type { Server } from "socket.io";
import { BROWSER_NAMESPACE } from "@corral/protocol";
import { cookie } from "../auth-request.ts";
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
    const session = cookie(socket.handshake.headers.cookie, SESSION_COOKIE);
    if (!session) return next(new Error("log in first"));
    services.auth.userForSession(session).then(
      (user) => {
        if (!user) return next(new Error("session expired: log in again"));
        socket.data.user = user;
        void socket.join(`user:${user.id}`);
        next();
      },
      (err: Error) => next(err),
    );
  });
  attachBrowserLive(ns, services, opts);
}
