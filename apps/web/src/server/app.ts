// One Node server for everything: /api/v1 (REST), /api/trpc, socket.io (agents, browsers) and
// the Next.js pages, on one port.
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import next from "next";
import { Server as SocketServer } from "socket.io";
import { joinCluster, shareStatsHistory, type Cluster } from "./cluster.ts";
import { createDb, prepareDb } from "./db.ts";
import { csrfRefusal } from "./csrf.ts";
import { FORM_PATHS, handleLoginForm } from "./login-forms.ts";
import { sendJson } from "./rest/http.ts";
import { restRoutes } from "./rest/routes.ts";
import { setSecurityHeaders, socketSecurityHeaders } from "./security-headers.ts";
import { createServices, type Services } from "./services/index.ts";
import { attachBrowserNamespace } from "./sockets/browser.ts";
import { TRPC_BASE, trpcHandler } from "./trpc/root.ts";

export interface RunningServer {
  url: string;
  services: Services;
  http: HttpServer;
  close(): Promise<void>;
}

export async function startServer(opts: {
  port: number;
  host?: string;
  /** the Next.js app's directory (apps/web) */
  dir: string;
  databaseUrl: string;
  /** several web processes share the fleet through this Redis (CORRAL_REDIS_URL) */
  redisUrl?: string;
}): Promise<RunningServer> {
  const db = createDb(opts.databaseUrl);
  await prepareDb(db, opts.databaseUrl);
  const services = createServices(db);
  const cluster = opts.redisUrl !== undefined;
  // Alone, nobody is connected when the server starts; with others, their agents are (a host
  // whose process died is found silent by the hub's sweep instead).
  if (!cluster) await services.hosts.markAllOffline();
  services.statsHistory.start();
  services.webhooks.start();
  const nextApp = next({ dev: false, dir: opts.dir });
  await nextApp.prepare();
  const nextHandler = nextApp.getRequestHandler();
  const rest = restRoutes(services);
  const trpc = trpcHandler(services);

  const http = createServer((req, res) => {
    setSecurityHeaders(req, res);
    const url = new URL(req.url ?? "/", "http://corral");
    if (url.pathname.startsWith("/api/")) {
      const refusal = csrfRefusal(req);
      if (refusal) return sendJson(res, 403, { error: refusal });
    }
    if (url.pathname.startsWith(TRPC_BASE)) return void trpc(req, res);
    // The login and setup forms sent before hydration (or without JavaScript): a native POST.
    if (req.method === "POST" && FORM_PATHS.has(url.pathname)) {
      return void handleLoginForm(services, req, res, url);
    }
    void rest.handle(req, res, url).then((handled) => {
      if (!handled) void nextHandler(req, res);
    });
  });
  const io = new SocketServer(http, { serveClient: false, maxHttpBufferSize: 16 * 1024 * 1024 });
  socketSecurityHeaders(io);
  let shared: Cluster | undefined;
  if (opts.redisUrl) {
    shared = await joinCluster(io, opts.redisUrl);
    shareStatsHistory(io, services);
  }
  services.hub.attach(io, { cluster });
  attachBrowserNamespace(io, services, { cluster });

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(opts.port, opts.host ?? "0.0.0.0", resolve);
  });
  const addr = http.address() as AddressInfo;
  const host = opts.host && opts.host !== "0.0.0.0" ? opts.host : "127.0.0.1";
  return {
    url: `http://${host}:${addr.port}`,
    services,
    http,
    async close() {
      services.hub.close();
      services.notices.close();
      services.webhooks.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await services.statsHistory.close().catch(() => undefined);
      await shared?.close();
      await nextApp.close?.();
      await db.$disconnect();
    },
  };
}
