// REST API /api/v1: thin routes over the services (the tRPC routers call the same ones). Each
// route parses its input with a zod schema and names that schema in its doc, from which
// /api/v1/openapi.json is made.
import { z } from "zod";
import { joinRequestSchema, JOIN_PATH } from "@corral/protocol";
import { actorOf, authenticate, clientAddress, publicUrl } from "../auth-request.ts";
import { badRequest } from "../errors.ts";
import type { Services } from "../services/index.ts";
import { createUserInput, loginInput, SESSION_COOKIE, SESSION_TTL_MS } from "../services/auth.ts";
import {
  CONTAINER_ACTIONS,
  createContainerInput,
  logsDownloadInput,
  logsInput,
  type ContainerAction,
} from "../services/containers.ts";
import { pullInput } from "../services/images.ts";
import { markReadInput, noticeListInput } from "../services/notices.ts";
import { createWebhookInput } from "../services/webhooks.ts";
import { statsRangeInput } from "../services/stats-history.ts";
import { RestRouter, type RestRequest } from "./http.ts";

const hostFilter = z.object({
  hostId: z.string().min(1, "hostId must not be empty").optional(),
});
const removeQuery = z.object({
  force: z.enum(["0", "1", "true", "false"], { message: "force is true or false" }).optional(),
});

export function restRoutes(s: Services): RestRouter {
  const query = (r: RestRequest) => Object.fromEntries(r.query);

  const router: RestRouter = new RestRouter({
    authenticate: (req) => authenticate(s.auth, req.headers),
    actorOf,
  })
    .on(
      "GET",
      "/api/v1/health",
      "public",
      async () => {
        await s.db.$queryRaw`SELECT 1`;
        return { ok: true };
      },
      { summary: "200 when the server and its database are up" },
    )
    .on(
      "GET",
      "/api/v1/openapi.json",
      "public",
      async () => router.openapi({ title: "Corral", version: "0.1.0" }),
      { summary: "this document" },
    )
    // Prometheus scrapes with a bearer token (authorization.credentials in its scrape config).
    .on(
      "GET",
      "/metrics",
      "read",
      async (r) => {
        const text = await s.metrics.render();
        r.res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
        r.res.end(text);
        return undefined;
      },
      { summary: "Prometheus text, cAdvisor's metric names, host and container labels" },
    )
    .on(
      "POST",
      "/api/v1/auth/login",
      "public",
      async (r) => {
        const { token } = await s.auth.loginForToken(
          loginInput.parse(await r.body()),
          clientAddress(r.req),
        );
        return { token };
      },
      { summary: "an API token ({token}) for scripts; no cookie", body: loginInput },
    )
    .on(
      "POST",
      "/api/v1/auth/session",
      "public",
      async (r) => {
        const { session, user } = await s.auth.loginForSession(
          loginInput.parse(await r.body()),
          clientAddress(r.req),
        );
        r.res.setHeader(
          "set-cookie",
          `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`,
        );
        return { user: { email: user.email, role: user.role } };
      },
      {
        summary: "the login page's: a session cookie (httpOnly, SameSite=Lax), no API token",
        body: loginInput,
      },
    )
    .on(
      "POST",
      JOIN_PATH,
      "public",
      async (r) => s.hosts.join(joinRequestSchema.parse(await r.body())),
      {
        summary: "an agent trades a one-time join token for its host credential",
        body: joinRequestSchema,
      },
    )
    .on(
      "POST",
      "/api/v1/users",
      "users.manage",
      async (r) => s.auth.createUser(createUserInput.parse(await r.body()), r.actor),
      { summary: "creates a user ({email, password, role}); admins only", body: createUserInput },
    )
    .on("GET", "/api/v1/users", "users.manage", async () => s.auth.listUsers(), {
      summary: "every user with its role; admins only",
    })
    .on("GET", "/api/v1/hosts", "read", async () => s.hosts.list(), {
      summary: "every host with its status (online/offline), facts and container counts",
    })
    .on("GET", "/api/v1/hosts/:id", "read", async (r) => s.hosts.get(r.params.id as string), {
      summary: "one host",
    })
    .on(
      "POST",
      "/api/v1/hosts/join-tokens",
      "hosts.manage",
      async (r) => {
        const t = await s.hosts.createJoinToken(publicUrl(r.req), r.actor.userId);
        await s.audit.record(r.actor, "host.join-token", "", { expiresAt: t.expiresAt });
        return t;
      },
      { summary: "a one-time join token and the one-line agent command ({token, command})" },
    )
    .on(
      "GET",
      "/api/v1/notices",
      "read",
      async (r) => s.notices.list(r.actor.userId as string, noticeListInput.parse(query(r)).limit),
      {
        summary: "alerts, newest first ({unread, notices}); read state is the caller's",
        query: noticeListInput,
      },
    )
    .on(
      "POST",
      "/api/v1/notices/read",
      "read",
      async (r) =>
        s.notices.markRead(r.actor.userId as string, markReadInput.parse(await r.body()).upTo),
      {
        summary: "marks the caller's notices read ({upTo?}: up to that id; default all)",
        body: markReadInput,
      },
    )
    .on("GET", "/api/v1/webhooks", "webhooks.manage", async () => s.webhooks.list(), {
      summary: "alert webhooks with their last deliveries (status, attempts, last answer)",
    })
    .on(
      "POST",
      "/api/v1/webhooks",
      "webhooks.manage",
      async (r) => s.webhooks.create(createWebhookInput.parse(await r.body()), r.actor),
      {
        summary: "adds a webhook ({url, secret?}): a JSON POST for every notice",
        body: createWebhookInput,
      },
    )
    .on(
      "DELETE",
      "/api/v1/webhooks/:id",
      "webhooks.manage",
      async (r) => {
        await s.webhooks.remove(r.params.id as string, r.actor);
        return {};
      },
      { summary: "removes a webhook" },
    )
    .on(
      "GET",
      "/api/v1/images",
      "read",
      async (r) => s.images.list(hostFilter.parse(query(r)).hostId),
      { summary: "images per host, as each host last reported them", query: hostFilter },
    )
    .on(
      "POST",
      "/api/v1/images/pull",
      "images.write",
      async (r) => s.images.pull(pullInput.parse(await r.body()), r.actor),
      { summary: "pulls an image on a host; answers when it is done", body: pullInput },
    )
    .on(
      "GET",
      "/api/v1/containers",
      "read",
      async (r) => s.containers.list(hostFilter.parse(query(r)).hostId),
      {
        summary: "containers of every host (or one); state 'unknown' while a host is offline",
        query: hostFilter,
      },
    )
    .on(
      "POST",
      "/api/v1/containers",
      "containers.write",
      async (r) => s.containers.create(createContainerInput.parse(await r.body()), r.actor),
      {
        summary: "creates (and by default starts) a container on a host",
        body: createContainerInput,
      },
    )
    .on(
      "GET",
      "/api/v1/containers/:id",
      "read",
      async (r) => s.containers.get(r.params.id as string),
      { summary: "one container" },
    )
    .on(
      "DELETE",
      "/api/v1/containers/:id",
      "containers.write",
      async (r) => {
        const { force } = removeQuery.parse(query(r));
        await s.containers.remove(
          r.params.id as string,
          force === "1" || force === "true",
          r.actor,
        );
        return {};
      },
      { summary: "removes a container (force=1: even running)", query: removeQuery },
    )
    .on(
      "GET",
      "/api/v1/containers/:id/stats",
      "read",
      async (r) =>
        s.statsHistory.forContainer(r.params.id as string, statsRangeInput.parse(query(r)).range),
      {
        summary:
          "CPU/memory/network/block history: range=15m (1 s points), 1h or 24h (1-minute points)",
        query: statsRangeInput,
      },
    )
    .on(
      "GET",
      "/api/v1/containers/:id/logs",
      "read",
      async (r) => {
        const opts = logsInput.parse(query(r));
        const { res, req } = r;
        const head = (): void => {
          if (!res.headersSent) res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        };
        let close: () => void = () => undefined;
        await new Promise<void>((resolve, reject) => {
          s.containers
            .logs(r.params.id as string, opts, {
              data: (d) => {
                head();
                res.write(d);
              },
              end: () => resolve(),
            })
            .then((c) => {
              close = c;
              head();
              req.once("close", () => resolve());
            }, reject);
        });
        close();
        res.end();
        return undefined;
      },
      { summary: "the container's output (text); follow=1 keeps streaming", query: logsInput },
    )
    .on(
      "GET",
      "/api/v1/containers/:id/logs/download",
      "read",
      async (r) => {
        const { timestamps } = logsDownloadInput.parse(query(r));
        const c = await s.containers.get(r.params.id as string);
        const { res, req } = r;
        // The whole log, streamed as the host sends it: never held in the server's memory.
        const file = `${c.name.replace(/[^\w.-]/g, "_")}-${c.id.slice(0, 12)}.log`;
        const head = (): void => {
          if (res.headersSent) return;
          res.writeHead(200, {
            "content-type": "text/plain; charset=utf-8",
            "content-disposition": `attachment; filename="${file}"`,
            "cache-control": "no-store",
          });
        };
        let close: () => void = () => undefined;
        await new Promise<void>((resolve, reject) => {
          s.containers
            .logs(
              c.id,
              { follow: false, timestamps },
              {
                data: (d) => {
                  head();
                  res.write(d);
                },
                end: () => resolve(),
              },
            )
            .then((cl) => {
              close = cl;
              head();
              req.once("close", () => resolve());
            }, reject);
        });
        close();
        res.end();
        return undefined;
      },
      {
        summary: "the container's whole log as a file (timestamps=0 leaves out each line's time)",
        query: logsDownloadInput,
      },
    )
    .on(
      "POST",
      "/api/v1/containers/:id/:action",
      "containers.write",
      async (r) => {
        const action = r.params.action as string;
        if (!(CONTAINER_ACTIONS as readonly string[]).includes(action)) {
          throw badRequest(
            `action must be one of ${CONTAINER_ACTIONS.join(", ")}, got "${action}"`,
          );
        }
        return s.containers.action(r.params.id as string, action as ContainerAction, r.actor);
      },
      { summary: `one of ${CONTAINER_ACTIONS.join(", ")}; answers with the container` },
    );
  return router;
}
