// REST API /api/v1: thin routes over the services (the tRPC routers call the same ones). Each
// route reads: method, path, permission, doc (summary, and the zod schemas of its body or query,
// which the router parses before the handler runs and /api/v1/openapi.json is made from), then
// the service call on the parsed input.
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
import { RestRouter } from "./http.ts";

const hostFilter = z.object({
  hostId: z.string().min(1, "hostId must not be empty").optional(),
});
const isTrue = (v: string | undefined) => v === "1" || v === "true";
const removeQuery = z.object({
  force: z
    .enum(["0", "1", "true", "false"], { message: "force is true or false" })
    .optional()
    .transform(isTrue),
});
const onHostQuery = z.object({
  hostId: z.string({ message: "hostId is required" }).min(1, "hostId is required"),
});
const removeOnHostQuery = onHostQuery.extend(removeQuery.shape);
const NDJSON = "application/x-ndjson";

export function restRoutes(s: Services): RestRouter {
  const router: RestRouter = new RestRouter({
    authenticate: (req) => authenticate(s.auth, req.headers),
    actorOf,
  })
    .on(
      "GET",
      "/api/v1/health",
      "public",
      { summary: "200 when the server and its database are up" },
      async () => {
        await s.db.$queryRaw`SELECT 1`;
        return { ok: true };
      },
    )
    .on("GET", "/api/v1/openapi.json", "public", { summary: "this document" }, async () =>
      router.openapi({ title: "Corral", version: "0.1.0" }),
    )
    // Prometheus scrapes with a bearer token (authorization.credentials in its scrape config).
    .on(
      "GET",
      "/metrics",
      "read",
      { summary: "Prometheus text, cAdvisor's metric names, host and container labels" },
      async (r) => {
        const text = await s.metrics.render();
        r.res.writeHead(200, { "content-type": s.metrics.contentType });
        r.res.end(text);
      },
    )
    .on(
      "POST",
      "/api/v1/auth/login",
      "public",
      {
        summary:
          "an API token ({token, expiresAt}) for scripts, valid 30 days; no cookie (a named token from /api/v1/tokens need not expire)",
        body: loginInput,
      },
      async (r) => {
        const { token, expiresAt } = await s.auth.loginForToken(r.body, clientAddress(r.req));
        return { token, expiresAt };
      },
    )
    .on(
      "POST",
      "/api/v1/auth/session",
      "public",
      {
        summary:
          "the login page's: a session cookie (httpOnly, SameSite=Lax, Secure over https), no API token",
        body: loginInput,
      },
      async (r) => {
        const { session, user } = await s.auth.loginForSession(r.body, clientAddress(r.req));
        r.res.setHeader("set-cookie", sessionCookie(session, r.req));
        return { user: { email: user.email, role: user.role } };
      },
    )
    .on(
      "GET",
      "/api/v1/setup",
      "public",
      { summary: "whether first-run setup is open ({open}): true only while no user exists" },
      async () => ({ open: await s.setup.open() }),
    )
    // The dashboard's logout form (a plain form post, no script needed): the session ends, then
    // its cookie is cleared with the attributes it was set with (Secure over https, or a browser
    // may keep it), and a relative Location is right behind any proxy. Its other open pages are
    // told it was a logout (services/auth.ts).
    .on(
      "POST",
      "/logout",
      "public",
      { summary: "a browser's logout: ends this session, clears its cookie, 303 to /login" },
      async (r) => {
        const session = cookie(r.req.headers.cookie, SESSION_COOKIE);
        if (session) await s.auth.logout(session);
        r.res.writeHead(303, { location: "/login", "set-cookie": clearedSessionCookie(r.req) });
        r.res.end();
        return undefined;
      },
    )
    .on(
      "POST",
      "/api/v1/setup",
      "public",
      {
        summary:
          "first run: the one-time token the server printed makes the first admin ({token, email, password}); closed once a user exists",
        body: setupInput,
      },
      async (r) => {
        const { session, user } = await s.setup.complete(r.body, clientAddress(r.req));
        r.res.setHeader("set-cookie", sessionCookie(session, r.req));
        return { user: { email: user.email, role: user.role } };
      },
    )
    .on(
      "POST",
      "/api/v1/auth/password",
      "account.manage",
      {
        summary:
          "changes the caller's password ({currentPassword, newPassword}); ends their other sessions, renews this one's cookie",
        body: changePasswordInput,
      },
      async (r) => {
        const { endedSessions, session } = await s.auth.changePassword(
          r.user,
          r.body,
          cookie(r.req.headers.cookie, SESSION_COOKIE),
          r.actor,
        );
        if (session) r.res.setHeader("set-cookie", sessionCookie(session, r.req));
        return { endedSessions };
      },
    )
    .on(
      "GET",
      "/api/v1/tokens",
      "account.manage",
      { summary: "the caller's API tokens (an admin's: everyone's), never their secrets" },
      (r) => s.tokens.list(r.user),
    )
    .on(
      "POST",
      "/api/v1/tokens",
      "account.manage",
      {
        summary:
          "a named API token ({name, expiresInDays?}: never expires without it); its secret is in this answer only",
        body: createTokenInput,
      },
      (r) => s.tokens.create(r.user, r.body, r.actor),
    )
    .on(
      "DELETE",
      "/api/v1/tokens/:id",
      "account.manage",
      { summary: "revokes a token (one's own; an admin: anyone's)" },
      (r) => s.tokens.revoke(r.user, r.params.id, r.actor),
    )
    .on(
      "GET",
      "/api/v1/audit",
      "audit.read",
      {
        summary: "the audit log, newest first ({entries, next}: pass next as before for more)",
        query: auditQueryInput,
      },
      (r) => s.audit.list(r.query),
    )
    .on(
      "POST",
      JOIN_PATH,
      "public",
      {
        summary: "an agent trades a one-time join token for its host credential",
        body: joinRequestSchema,
      },
      (r) => s.hosts.join(r.body, clientAddress(r.req)),
    )
    .on(
      "POST",
      "/api/v1/users",
      "users.manage",
      { summary: "creates a user ({email, password, role}); admins only", body: createUserInput },
      (r) => s.auth.createUser(r.body, r.actor),
    )
    .on(
      "GET",
      "/api/v1/users",
      "users.manage",
      { summary: "every user with its role; admins only" },
      () => s.auth.listUsers(),
    )
    .on(
      "PATCH",
      "/api/v1/users/:id",
      "users.manage",
      {
        summary: "changes a user's role ({role}); never the last admin's",
        body: setRoleInput.pick({ role: true }),
      },
      (r) => s.users.setRole({ id: r.params.id, role: r.body.role }, r.actor),
    )
    .on(
      "DELETE",
      "/api/v1/users/:id",
      "users.manage",
      { summary: "removes a user with its sessions and tokens; never the last admin" },
      (r) => s.users.remove(r.params.id, r.actor),
    )
    .on(
      "GET",
      "/api/v1/hosts",
      "read",
      { summary: "every host with its status (online/offline), facts and container counts" },
      () => s.hosts.list(),
    )
    // join-tokens before /hosts/:id, which would match it too
    .on(
      "GET",
      "/api/v1/hosts/join-tokens",
      "hosts.manage",
      {
        summary:
          "join tokens, newest first: created (by whom), expires, used (by which host), revoked",
      },
      () => s.joinTokens.list(),
    )
    .on(
      "POST",
      "/api/v1/hosts/join-tokens",
      "hosts.manage",
      {
        summary: `a one-time join token and the one-line agent command ({token, command, expiresAt}); expiresInHours ${JOIN_TOKEN_TTL_HOURS.min}-${JOIN_TOKEN_TTL_HOURS.max}, default ${JOIN_TOKEN_TTL_HOURS.default}`,
        body: createJoinTokenInput,
      },
      (r) => s.joinTokens.create(publicUrl(r.req), r.actor, r.body),
    )
    .on(
      "DELETE",
      "/api/v1/hosts/join-tokens/:id",
      "hosts.manage",
      { summary: "revokes a join token not used yet (a used one: 409)" },
      (r) => s.joinTokens.revoke(r.params.id, r.actor),
    )
    .on("GET", "/api/v1/hosts/:id", "read", { summary: "one host" }, (r) =>
      s.hosts.get(r.params.id),
    )
    .on(
      "POST",
      "/api/v1/hosts/:id/drain",
      "hosts.manage",
      {
        summary: "no new container is placed on the host (409); running ones are untouched",
        body: drainInput,
      },
      (r) => s.hostAdmin.drain(r.params.id, r.body, r.actor),
    )
    .on(
      "POST",
      "/api/v1/hosts/:id/undrain",
      "hosts.manage",
      { summary: "the host takes new containers again" },
      (r) => s.hostAdmin.undrain(r.params.id, r.actor),
    )
    .on(
      "DELETE",
      "/api/v1/hosts/:id",
      "hosts.manage",
      {
        summary:
          "removes the host: its agent is refused from now on, its rows and events are deleted; its containers keep running on the machine",
      },
      (r) => s.hostAdmin.remove(r.params.id, r.actor),
    )
    .on(
      "GET",
      "/api/v1/notices",
      "read",
      {
        summary: "alerts, newest first ({unread, notices}); read state is the caller's",
        query: noticeListInput,
      },
      (r) => s.notices.list(r.actor.userId as string, r.query.limit),
    )
    .on(
      "POST",
      "/api/v1/notices/read",
      "read",
      {
        summary: "marks the caller's notices read ({upTo?}: up to that id; default all)",
        body: markReadInput,
      },
      (r) => s.notices.markRead(r.actor.userId as string, r.body.upTo),
    )
    .on(
      "GET",
      "/api/v1/webhooks",
      "webhooks.manage",
      { summary: "alert webhooks with their last deliveries (status, attempts, last answer)" },
      () => s.webhooks.list(),
    )
    .on(
      "POST",
      "/api/v1/webhooks",
      "webhooks.manage",
      {
        summary: "adds a webhook ({url, secret?}): a JSON POST for every notice",
        body: createWebhookInput,
      },
      (r) => s.webhooks.create(r.body, r.actor),
    )
    .on(
      "DELETE",
      "/api/v1/webhooks/:id",
      "webhooks.manage",
      { summary: "removes a webhook" },
      (r) => s.webhooks.remove(r.params.id, r.actor),
    )
    .on(
      "GET",
      "/api/v1/images",
      "read",
      { summary: "images per host, as each host last reported them", query: hostFilter },
      (r) => s.images.list(r.query.hostId),
    )
    .on(
      "POST",
      "/api/v1/images/pull",
      "images.write",
      {
        summary: `pulls an image on a host; answers when it is done, or with Accept: ${NDJSON} streams per-layer progress lines ({status, id, digest, progressDetail}), then {status: "done", image} or {error}`,
        body: pullInput,
      },
      async (r) => {
        if (!(r.req.headers.accept ?? "").includes(NDJSON)) return s.images.pull(r.body, r.actor);
        // As Docker's POST /images/create: one JSON object per line. The head goes out with
        // the first line, so a pull refused before it starts keeps its status (404, 409).
        const line = (o: object): void => {
          if (!r.res.headersSent) r.res.writeHead(200, { "content-type": NDJSON });
          r.res.write(JSON.stringify(o) + "\n");
        };
        try {
          const image = await s.images.pull(r.body, r.actor, (l) =>
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
    )
    .on(
      "DELETE",
      "/api/v1/images/:id",
      "images.write",
      {
        summary:
          "removes (or untags) an image on a host; 409 with the reason while a container uses it (force=1 anyway)",
        query: removeOnHostQuery,
      },
      (r) =>
        s.images.remove(
          removeImageInput.parse({ hostId: r.query.hostId, id: r.params.id, force: r.query.force }),
          r.actor,
        ),
    )
    .on(
      "POST",
      "/api/v1/images/prune",
      "images.write",
      {
        summary: "removes a host's images no container uses (untagged only unless all: true)",
        body: pruneImagesInput,
      },
      (r) => s.images.prune(r.body, r.actor),
    )
    .on(
      "GET",
      "/api/v1/networks",
      "read",
      {
        summary:
          "networks of every host (or one), asked of the hosts: {items, unreachable: offline hosts}",
        query: hostFilter,
      },
      (r) => s.networks.list(r.query.hostId),
    )
    .on(
      "POST",
      "/api/v1/networks",
      "networks.write",
      {
        summary: "creates a bridge network on a host ({hostId, name, subnet?})",
        body: createNetworkInput,
      },
      (r) => s.networks.create(r.body, r.actor),
    )
    .on(
      "DELETE",
      "/api/v1/networks/:name",
      "networks.write",
      {
        summary: "removes a network; 409 naming the containers that still use it",
        query: onHostQuery,
      },
      (r) =>
        s.networks.remove(
          removeNetworkInput.parse({ hostId: r.query.hostId, name: r.params.name }),
          r.actor,
        ),
    )
    .on(
      "GET",
      "/api/v1/volumes",
      "read",
      {
        summary:
          "volumes of every host (or one) with the containers that mount them: {items, unreachable}",
        query: hostFilter,
      },
      (r) => s.volumes.list(r.query.hostId),
    )
    .on(
      "POST",
      "/api/v1/volumes",
      "volumes.write",
      { summary: "creates a volume on a host ({hostId, name?})", body: createVolumeInput },
      (r) => s.volumes.create(r.body, r.actor),
    )
    .on(
      "POST",
      "/api/v1/volumes/prune",
      "volumes.write",
      {
        summary: "removes every volume of a host that no container mounts",
        body: pruneVolumesInput,
      },
      (r) => s.volumes.prune(r.body, r.actor),
    )
    .on(
      "DELETE",
      "/api/v1/volumes/:name",
      "volumes.write",
      { summary: "removes a volume; 409 while a container uses it", query: onHostQuery },
      (r) =>
        s.volumes.remove(
          removeVolumeInput.parse({ hostId: r.query.hostId, name: r.params.name }),
          r.actor,
        ),
    )
    .on(
      "GET",
      "/api/v1/events",
      "read",
      {
        summary:
          "events, newest first: {events, nextBefore}; pass nextBefore as before for the next page",
        query: listEventsInput,
      },
      (r) => s.events.list(r.query),
    )
    .on(
      "GET",
      "/api/v1/containers",
      "read",
      {
        summary: "containers of every host (or one); state 'unknown' while a host is offline",
        query: hostFilter,
      },
      (r) => s.containers.listViews(r.query.hostId),
    )
    .on(
      "POST",
      "/api/v1/containers",
      "containers.write",
      {
        summary:
          "creates a container on a host and, unless start is false, starts it: a run, all or nothing (a start that fails removes it again, and the error says so)",
        body: createContainerInput,
      },
      (r) => s.containers.create(r.body, r.actor),
    )
    .on("GET", "/api/v1/containers/:id", "read", { summary: "one container" }, (r) =>
      s.containers.get(r.params.id),
    )
    .on(
      "GET",
      "/api/v1/containers/:id/env",
      "read",
      {
        summary:
          "its environment ({revealed, entries}); every value masked unless the caller may edit containers",
      },
      (r) => s.containers.env(r.params.id, r.user.role),
    )
    .on(
      "DELETE",
      "/api/v1/containers/:id",
      "containers.write",
      { summary: "removes a container (force=1: even running)", query: removeQuery },
      (r) => s.containers.remove(r.params.id, r.query.force, r.actor),
    )
    .on(
      "GET",
      "/api/v1/hosts/:id/stats",
      "read",
      {
        summary:
          "the host's own CPU % and memory history: range=15m (1 s points), 1h or 24h (1-minute points)",
        query: statsRangeInput,
      },
      (r) => s.statsHistory.forHost(r.params.id, r.query.range),
    )
    .on(
      "GET",
      "/api/v1/containers/:id/stats",
      "read",
      {
        summary:
          "CPU/memory/network/block history: range=15m (1 s points), 1h or 24h (1-minute points)",
        query: statsRangeInput,
      },
      (r) => s.statsHistory.forContainer(r.params.id, r.query.range),
    )
    .on(
      "GET",
      "/api/v1/containers/:id/logs",
      "read",
      { summary: "the container's output (text); follow=1 keeps streaming", query: logsInput },
      async (r) => {
        const { res, req } = r;
        const head = (): void => {
          if (!res.headersSent) res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        };
        let close: () => void = () => undefined;
        await new Promise<void>((resolve, reject) => {
          s.containers
            .logs(r.params.id, r.query, {
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
      },
    )
    .on(
      "GET",
      "/api/v1/containers/:id/logs/download",
      "read",
      {
        summary: "the container's whole log as a file (timestamps=0 leaves out each line's time)",
        query: logsDownloadInput,
      },
      async (r) => {
        const c = await s.containers.get(r.params.id);
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
              { follow: false, timestamps: r.query.timestamps },
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
      },
    )
    .on(
      "POST",
      "/api/v1/containers/:id/:action",
      "containers.write",
      { summary: `one of ${CONTAINER_ACTIONS.join(", ")}; answers with the container` },
      (r) => {
        const { action } = r.params;
        if (!(CONTAINER_ACTIONS as readonly string[]).includes(action)) {
          throw badRequest(
            `action must be one of ${CONTAINER_ACTIONS.join(", ")}, got "${action}"`,
          );
        }
        return s.containers.action(r.params.id, action as ContainerAction, r.actor);
      },
    );
  return router;
}
