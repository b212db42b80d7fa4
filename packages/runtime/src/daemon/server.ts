// corral-rtd's local API: HTTP/1.1 over a root-only unix socket (like dockerd's), JSON in and
// out, NDJSON for streams (events), raw bytes for logs. The CLI and the agent are its clients.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { handleAttach } from "./attach.js";
import { chmodSync } from "node:fs";
import { inspectContainer, psRow } from "../container/inspect.js";
import { UserError } from "../util/errors.js";
import type { ContainerEvent, ContainerService } from "./containers.js";
import { streamLog } from "./logs.js";
import { StatsSampler } from "./stats.js";
import { Router } from "./http.js";
import { daemonLog, logUnexpected } from "./faults.js";
import { endInFlight } from "./reconcile.js";
import type { VolumeStore } from "./volumes.js";
import type { ImageApi } from "./images.js";
import { registerNetworkRoutes } from "./network-routes.js";
import { registerSystemRoutes } from "./system.js";

/** Bytes of events an events client may leave unread before it is dropped. */
export const MAX_EVENT_BACKLOG = 1024 * 1024;

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === "1" || v === "true";
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^-?[0-9]+$/.test(v)) throw new UserError(`${name} must be a whole number, got "${v}"`);
  return Number(v);
}

export function createApi(
  containers: ContainerService,
  volumes: VolumeStore,
  images: ImageApi,
): Router {
  const router = new Router();
  const sampler = new StatsSampler(containers, (id) => containers.cgroupOf(id).openStats());
  // One exit waiter per container for all its log followers: a waiter per request would stay
  // registered until the container exits, however soon its client went away.
  const exits = new Map<string, Promise<void>>();
  const exited = (id: string): Promise<void> => {
    let p = exits.get(id);
    if (!p) {
      p = containers.wait(id).then(
        () => void exits.delete(id),
        () => void exits.delete(id),
      );
      exits.set(id, p);
    }
    return p;
  };
  containers.on("event", (e: ContainerEvent) => {
    // A stopped container's cgroup is gone: close its files (a restart reopens them).
    if (e.type === "die" || e.type === "destroy") sampler.forget(e.id);
  });
  const volumeJson = (name: string): Record<string, unknown> => {
    const v = volumes.get(name);
    return {
      Name: v.name,
      Driver: "local",
      Mountpoint: v.path,
      CreatedAt: v.created,
      Labels: v.labels,
      Scope: "local",
    };
  };
  router
    .on("GET", "/v1/ping", async () => ({ ok: true, pid: process.pid }))
    // ---- containers
    .on("GET", "/v1/containers", async ({ query }) =>
      containers.list(flag(query, "all")).map(psRow),
    )
    .on("POST", "/v1/containers", async ({ body, res, query }) => {
      const r = await containers.create(await body());
      // A create is done once its client has the id, or (start=1, as `run` asks) once the start
      // that follows has ended: a daemon that dies before leaves the mark and the next one
      // settles the container (see reconcile.ts).
      if (!flag(query, "start"))
        res.once("close", () => endInFlight(containers.containerDir(r.id)));
      return { Id: r.id, Name: r.name };
    })
    .on("GET", "/v1/containers/:id", async ({ params }) => {
      const r = containers.get(params.id as string);
      return inspectContainer(r, containers.containerDir(r.id));
    })
    .on("POST", "/v1/containers/:id/start", async ({ params }) => {
      const r = await containers.start(params.id as string);
      return { Id: r.id };
    })
    .on("POST", "/v1/containers/:id/stop", async ({ params, query }) => {
      const r = await containers.stop(params.id as string, intParam(query, "t"));
      return { Id: r.id };
    })
    .on("POST", "/v1/containers/:id/restart", async ({ params, query }) => {
      const r = await containers.restart(params.id as string, intParam(query, "t"));
      return { Id: r.id };
    })
    .on("POST", "/v1/containers/:id/kill", async ({ params, query }) => {
      const r = await containers.kill(params.id as string, query.get("signal") ?? "SIGKILL");
      return { Id: r.id };
    })
    .on("POST", "/v1/containers/:id/pause", async ({ params }) => ({
      Id: (await containers.pause(params.id as string)).id,
    }))
    .on("POST", "/v1/containers/:id/unpause", async ({ params }) => ({
      Id: (await containers.unpause(params.id as string)).id,
    }))
    .on("POST", "/v1/containers/:id/wait", async ({ params }) => ({
      StatusCode: await containers.wait(params.id as string),
    }))
    .on("DELETE", "/v1/containers/:id", async ({ params, query }) => {
      await containers.remove(params.id as string, {
        force: flag(query, "force"),
        volumes: flag(query, "v"),
      });
      return {};
    })
    .on("GET", "/v1/stats", async () => sampler.sampleAll())
    .on("GET", "/v1/containers/:id/stats", async ({ params }) =>
      sampler.sample(params.id as string),
    )
    .on("GET", "/v1/containers/:id/logs", async ({ params, query, res }) => {
      const r = containers.get(params.id as string);
      res.writeHead(200, { "content-type": "application/octet-stream" });
      await streamLog(containers.logPath(r.id), res, {
        follow: flag(query, "follow"),
        tail: intParam(query, "tail") ?? -1,
        timestamps: flag(query, "timestamps"),
        stopped: () => exited(r.id),
        keeper: containers.logs,
      });
      res.end();
    })
    .on("GET", "/v1/events", async ({ res, req }) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      // A client that stops reading is dropped once this much waits for it, rather than
      // have the daemon keep every event for it.
      const send = (e: ContainerEvent): void => {
        if (res.writableLength > MAX_EVENT_BACKLOG) {
          daemonLog(`dropped an events client: ${res.writableLength} bytes unread`);
          res.destroy();
        } else res.write(JSON.stringify(e) + "\n");
      };
      containers.on("event", send);
      // The head goes out now, not with the first event: a client holding the response knows
      // it is subscribed (the agent resyncs from that point).
      res.flushHeaders();
      await new Promise<void>((resolve) => {
        req.once("close", resolve);
        res.once("close", resolve);
      });
      containers.off("event", send);
    })
    // ---- volumes
    .on("POST", "/v1/volumes", async ({ body }) => {
      const b = (await body()) as { name?: unknown; labels?: unknown };
      if (b.name !== undefined && typeof b.name !== "string")
        throw new UserError("volume name must be a string");
      const v = volumes.create(b.name as string | undefined, false);
      return volumeJson(v.name);
    })
    .on("GET", "/v1/volumes", async () => volumes.list().map((v) => volumeJson(v.name)))
    .on("GET", "/v1/volumes/:name", async ({ params }) => volumeJson(params.name as string))
    .on("DELETE", "/v1/volumes/:name", async ({ params }) => {
      volumes.remove(params.name as string, (n) => containers.volumeInUse(n));
      return {};
    });
  images.routes(router, containers);
  registerSystemRoutes(router, containers, volumes, images);
  registerNetworkRoutes(router, containers);
  return router;
}

export function listen(
  router: Router,
  socketPath: string,
  containers: ContainerService,
): Promise<Server> {
  const server = createServer((req, res) => {
    // handle() answers its own errors; this is the last guard for one request.
    router.handle(req, res).catch((err: unknown) => {
      logUnexpected(`${req.method} ${req.url}`, err);
      res.destroy();
    });
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex) => {
    // A reset connection must not be an unhandled 'error': the client only went away.
    socket.on("error", () => undefined);
    try {
      if (!handleAttach(containers, req, socket)) socket.destroy();
    } catch (err) {
      logUnexpected(`upgrade ${req.url}`, err);
      socket.destroy();
    }
  });
  server.keepAliveTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      chmodSync(socketPath, 0o600);
      resolve(server);
    });
  });
}
