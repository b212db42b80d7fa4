// The app's tRPC router, mounted at /api/trpc: one router per resource, composed here.
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import type { Services } from "../services/index.ts";
import { accountRouter } from "./routers/account.ts";
import { auditRouter } from "./routers/audit.ts";
import { containersRouter } from "./routers/containers.ts";
import { hostsRouter } from "./routers/hosts.ts";
import { eventsRouter } from "./routers/events.ts";
import { imagesRouter } from "./routers/images.ts";
import { networksRouter } from "./routers/networks.ts";
import { volumesRouter } from "./routers/volumes.ts";
import { usersRouter } from "./routers/users.ts";
import { noticesRouter } from "./routers/notices.ts";
import { createContext, router } from "./trpc.ts";

export const appRouter = router({
  hosts: hostsRouter,
  containers: containersRouter,
  images: imagesRouter,
  users: usersRouter,
  account: accountRouter,
  audit: auditRouter,
  networks: networksRouter,
  volumes: volumesRouter,
  events: eventsRouter,
  notices: noticesRouter,
});
export type AppRouter = typeof appRouter;

export const TRPC_BASE = "/api/trpc/";

export function trpcHandler(services: Services): RequestListener {
  return createHTTPHandler({
    router: appRouter,
    basePath: TRPC_BASE,
    createContext: ({ req, res }: { req: IncomingMessage; res: ServerResponse }) =>
      createContext(services, req, res),
  });
}
