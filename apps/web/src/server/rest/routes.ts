// REST API /api/v1: thin routes over the services (the tRPC routers call the same ones). Each
// route parses its input with a zod schema and names that schema in its doc, from which
// /api/v1/openapi.json is made.
import { z } from "zod";
import { joinRequestSchema, JOIN_PATH } from "@corral/protocol";
import {
  actorOf,
  authenticate,
  clearedSessionCookie,
  clientAddress,
  cookie,
  publicUrl,
  sessionCookie,
} from "../auth-request.ts";
import { badRequest, toAppError } from "../errors.ts";
import type { Services } from "../services/index.ts";
import { createTokenInput } from "../services/api-tokens.ts";
import { auditQueryInput } from "../services/audit.ts";
import {
  changePasswordInput,
  createUserInput,
  loginInput,
  SESSION_COOKIE,
} from "../services/auth.ts";
import { setupInput } from "../services/setup.ts";
import { setRoleInput } from "../services/users.ts";
import {
  CONTAINER_ACTIONS,
  createContainerInput,
  logsDownloadInput,
  logsInput,
  type ContainerAction,
} from "../services/containers.ts";
import { listEventsInput } from "../services/events.ts";
import { drainInput } from "../services/host-admin.ts";
import { pruneImagesInput, pullInput, removeImageInput } from "../services/images.ts";
import { createJoinTokenInput, JOIN_TOKEN_TTL_HOURS } from "../services/join-tokens.ts";
import { createNetworkInput, removeNetworkInput } from "../services/networks.ts";
import { markReadInput, noticeListInput } from "../services/notices.ts";
import { statsRangeInput } from "../services/stats-history.ts";
import { createVolumeInput, pruneVolumesInput, removeVolumeInput } from "../services/volumes.ts";
import { createWebhookInput } from "../services/webhooks.ts";
import { RestRouter, type RestRequest } from "./http.ts";

const hostFilter = z.object({
  hostId: z.string().min(1, "hostId must not be empty").optional(),
});
const removeQuery = z.object({
  force: z.enum(["0", "1", "true", "false"], { message: "force is true or false" }).optional(),
});
const onHostQuery = z.object({
  hostId: z.string({ message: "hostId is required" }).min(1, "hostId is required"),
});
const removeOnHostQuery = onHostQuery.extend(removeQuery.shape);
const isTrue = (v: string | undefined) => v === "1" || v === "true";
const NDJSON = "application/x-ndjson";

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
        r.res.writeHead(200, { "content-type": s.metrics.contentType });
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
        const { token, expiresAt } = await s.auth.loginForToken(
          loginInput.parse(await r.body()),
          clientAddress(r.req),
        );
        return { token, expiresAt };
      },
      {
        summary:
          "an API token ({token, expiresAt}) for scripts, valid 30 days; no cookie (a named token from /api/v1/tokens need not expire)",
        body: loginInput,
      },
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
        r.res.setHeader("set-cookie", sessionCookie(session, r.req));
        return { user: { email: user.email, role: user.role } };
      },
      {
        summary:
          "the login page's: a session cookie (httpOnly, SameSite=Lax, Secure over https), no API token",
        body: loginInput,
      },
    )
    // The dashboard's logout form (a plain form post, no script needed): the session ends, then
    // its cookie is cleared with the attributes it was set with (Secure over https, or a browser
    // may keep it), and a relative Location is right behind any proxy. Its other open pages are
    // told it was a logout (services/auth.ts).
    .on(
      "POST",
      "/logout",
      "public",
      async (r) => {
        const session = cookie(r.req.headers.cookie, SESSION_COOKIE);
        if (session) await s.auth.logout(session);
        r.res.writeHead(303, { location: "/login", "set-cookie": clearedSessionCookie(r.req) });
        r.res.end();
        return undefined;
      },
      { summary: "a browser's logout: ends this session, clears its cookie, 303 to /login" },
    )
    .on("GET", "/api/v1/setup", "public", async () => ({ open: await s.setup.open() }), {
      summary: "whether first-run setup is open ({open}): true only while no user exists",
    })
    .on(
      "POST",
      "/api/v1/setup",
      "public",
      async (r) => {
        const { session, user } = await s.setup.complete(
          setupInput.parse(await r.body()),
          clientAddress(r.req),
        );
        r.res.setHeader("set-cookie", sessionCookie(session, r.req));
        return { user: { email: user.email, role: user.role } };
      },
      {
        summary:
          "first run: the one-time token the server printed makes the first admin ({token, email, password}); closed once a user exists",
        body: setupInput,
      },
    )
    .on(
      "POST",
      "/api/v1/auth/password",
      "account.manage",
      async (r) => {
        const { endedSessions, session } = await s.auth.changePassword(
          r.user,
          changePasswordInput.parse(await r.body()),
          cookie(r.req.headers.cookie, SESSION_COOKIE),
          r.actor,
        );
        if (session) r.res.setHeader("set-cookie", sessionCookie(session, r.req));
        return { endedSessions };
      },
      {
        summary:
          "changes the caller's password ({currentPassword, newPassword}); ends their other sessions, renews this one's cookie",
        body: changePasswordInput,
      },
    )
    .on("GET", "/api/v1/tokens", "account.manage", async (r) => s.tokens.list(r.user), {
      summary: "the caller's API tokens (an admin's: everyone's), never their secrets",
    })
    .on(
      "POST",
      "/api/v1/tokens",
      "account.manage",
      async (r) => s.tokens.create(r.user, createTokenInput.parse(await r.body()), r.actor),
      {
        summary:
          "a named API token ({name, expiresInDays?}: never expires without it); its secret is in this answer only",
        body: createTokenInput,
      },
    )
    .on(
      "DELETE",
      "/api/v1/tokens/:id",
      "account.manage",
      async (r) => {
        await s.tokens.revoke(r.user, r.params.id as string, r.actor);
        return {};
      },
      { summary: "revokes a token (one's own; an admin: anyone's)" },
    )
    .on(
      "GET",
      "/api/v1/audit",
      "audit.read",
      async (r) => s.audit.list(auditQueryInput.parse(query(r))),
      {
        summary: "the audit log, newest first ({entries, next}: pass next as before for more)",
        query: auditQueryInput,
      },
    )
    .on(
      "POST",
      JOIN_PATH,
      "public",
      async (r) => s.hosts.join(joinRequestSchema.parse(await r.body()), clientAddress(r.req)),
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
    .on(
      "PATCH",
      "/api/v1/users/:id",
      "users.manage",
      async (r) => {
        const body = z.object({ role: setRoleInput.shape.role }).parse(await r.body());
        return s.users.setRole({ id: r.params.id as string, role: body.role }, r.actor);
      },
      {
        summary: "changes a user's role ({role}); never the last admin's",
        body: setRoleInput.pick({ role: true }),
      },
    )
    .on(
      "DELETE",
      "/api/v1/users/:id",
      "users.manage",
      async (r) => {
        await s.users.remove(r.params.id as string, r.actor);
        return {};
      },
      { summary: "removes a user with its sessions and tokens; never the last admin" },
    )
    .on("GET", "/api/v1/hosts", "read", async () => s.hosts.list(), {
      summary: "every host with its status (online/offline), facts and container counts",
    })
    // join-tokens before /hosts/:id, which would match it too
    .on("GET", "/api/v1/hosts/join-tokens", "hosts.manage", async () => s.joinTokens.list(), {
      summary:
        "join tokens, newest first: created (by whom), expires, used (by which host), revoked",
    })
    .on(
      "POST",
      "/api/v1/hosts/join-tokens",
      "hosts.manage",
      async (r) =>
        s.joinTokens.create(publicUrl(r.req), r.actor, createJoinTokenInput.parse(await r.body())),
      {
        summary: `a one-time join token and the one-line agent command ({token, command, expiresAt}); expiresInHours ${JOIN_TOKEN_TTL_HOURS.min}-${JOIN_TOKEN_TTL_HOURS.max}, default ${JOIN_TOKEN_TTL_HOURS.default}`,
        body: createJoinTokenInput,
      },
    )
    .on(
      "DELETE",
      "/api/v1/hosts/join-tokens/:id",
      "hosts.manage",
      async (r) => {
        await s.joinTokens.revoke(r.params.id as string, r.actor);
        return {};
      },
      { summary: "revokes a join token not used yet (a used one: 409)" },
    )
    .on("GET", "/api/v1/hosts/:id", "read", async (r) => s.hosts.get(r.params.id as string), {
      summary: "one host",
    })
    .on(
      "POST",
      "/api/v1/hosts/:id/drain",
      "hosts.manage",
      async (r) =>
        s.hostAdmin.drain(r.params.id as string, drainInput.parse(await r.body()), r.actor),
      {
        summary: "no new container is placed on the host (409); running ones are untouched",
        body: drainInput,
      },
    )
    .on(
      "POST",
      "/api/v1/hosts/:id/undrain",
      "hosts.manage",
      async (r) => s.hostAdmin.undrain(r.params.id as string, r.actor),
      { summary: "the host takes new containers again" },
    )
    .on(
      "DELETE",
      "/api/v1/hosts/:id",
      "hosts.manage",
      async (r) => s.hostAdmin.remove(r.params.id as string, r.actor),
      {
        summary:
          "removes the host: its agent is refused from now on, its rows and events are deleted; its containers keep running on the machine",
      },
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
      async (r) => {
        const input = pullInput.parse(await r.body());
        if (!(r.req.headers.accept ?? "").includes(NDJSON)) return s.images.pull(input, r.actor);
        // As Docker's POST /images/create: one JSON object per line. The head goes out with
        // the first line, so a pull refused before it starts keeps its status (404, 409).
        const line = (o: object): void => {
          if (!r.res.headersSent) r.res.writeHead(200, { "content-type": NDJSON });
          r.res.write(JSON.stringify(o) + "\n");
        };
        try {
          const image = await s.images.pull(input, r.actor, (l) =>
            line({
              status: l.status,
              id: l.digest.replace(/^sha256:/, "").slice(0, 12),
              digest: l.digest,
              progressDetail: { current: l.bytes, total: l.total },
            }),
          );
          line({ status: "done", image });
        } catch (err) {
          if (!r.res.headersSent) throw err;
          line({ error: toAppError(err).message });
        }
        r.res.end();
        return undefined;
      },
      {
        summary: `pulls an image on a host; answers when it is done, or with Accept: ${NDJSON} streams per-layer progress lines ({status, id, digest, progressDetail}), then {status: "done", image} or {error}`,
        body: pullInput,
      },
    )
    .on(
      "DELETE",
      "/api/v1/images/:id",
      "images.write",
      async (r) => {
        const q = removeOnHostQuery.parse(query(r));
        return s.images.remove(
          removeImageInput.parse({ hostId: q.hostId, id: r.params.id, force: isTrue(q.force) }),
          r.actor,
        );
      },
      {
        summary:
          "removes (or untags) an image on a host; 409 with the reason while a container uses it (force=1 anyway)",
        query: removeOnHostQuery,
      },
    )
    .on(
      "POST",
      "/api/v1/images/prune",
      "images.write",
      async (r) => s.images.prune(pruneImagesInput.parse(await r.body()), r.actor),
      {
        summary: "removes a host's images no container uses (untagged only unless all: true)",
        body: pruneImagesInput,
      },
    )
    .on(
      "GET",
      "/api/v1/networks",
      "read",
      async (r) => s.networks.list(hostFilter.parse(query(r)).hostId),
      {
        summary:
          "networks of every host (or one), asked of the hosts: {items, unreachable: offline hosts}",
        query: hostFilter,
      },
    )
    .on(
      "POST",
      "/api/v1/networks",
      "networks.write",
      async (r) => s.networks.create(createNetworkInput.parse(await r.body()), r.actor),
      {
        summary: "creates a bridge network on a host ({hostId, name, subnet?})",
        body: createNetworkInput,
      },
    )
    .on(
      "DELETE",
      "/api/v1/networks/:name",
      "networks.write",
      async (r) => {
        const { hostId } = onHostQuery.parse(query(r));
        await s.networks.remove(removeNetworkInput.parse({ hostId, name: r.params.name }), r.actor);
        return {};
      },
      {
        summary: "removes a network; 409 naming the containers that still use it",
        query: onHostQuery,
      },
    )
    .on(
      "GET",
      "/api/v1/volumes",
      "read",
      async (r) => s.volumes.list(hostFilter.parse(query(r)).hostId),
      {
        summary:
          "volumes of every host (or one) with the containers that mount them: {items, unreachable}",
        query: hostFilter,
      },
    )
    .on(
      "POST",
      "/api/v1/volumes",
      "volumes.write",
      async (r) => s.volumes.create(createVolumeInput.parse(await r.body()), r.actor),
      { summary: "creates a volume on a host ({hostId, name?})", body: createVolumeInput },
    )
    .on(
      "POST",
      "/api/v1/volumes/prune",
      "volumes.write",
      async (r) => s.volumes.prune(pruneVolumesInput.parse(await r.body()), r.actor),
      {
        summary: "removes every volume of a host that no container mounts",
        body: pruneVolumesInput,
      },
    )
    .on(
      "DELETE",
      "/api/v1/volumes/:name",
      "volumes.write",
      async (r) => {
        const { hostId } = onHostQuery.parse(query(r));
        await s.volumes.remove(removeVolumeInput.parse({ hostId, name: r.params.name }), r.actor);
        return {};
      },
      { summary: "removes a volume; 409 while a container uses it", query: onHostQuery },
    )
    .on(
      "GET",
      "/api/v1/events",
      "read",
      async (r) => s.events.list(listEventsInput.parse(query(r))),
      {
        summary:
          "events, newest first: {events, nextBefore}; pass nextBefore as before for the next page",
        query: listEventsInput,
      },
    )
    .on(
      "GET",
      "/api/v1/containers",
      "read",
      async (r) => s.containers.listViews(hostFilter.parse(query(r)).hostId),
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
      "GET",
      "/api/v1/containers/:id/env",
      "read",
      async (r) => s.containers.env(r.params.id as string, r.user.role),
      {
        summary:
          "its environment ({revealed, entries}); every value masked unless the caller may edit containers",
      },
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
      "/api/v1/hosts/:id/stats",
      "read",
      async (r) =>
        s.statsHistory.forHost(r.params.id as string, statsRangeInput.parse(query(r)).range),
      {
        summary:
          "the host's own CPU % and memory history: range=15m (1 s points), 1h or 24h (1-minute points)",
        query: statsRangeInput,
      },
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
