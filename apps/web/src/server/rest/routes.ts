// REST API /api/v1: thin routes over the services (the tRPC routers call the same ones).
import { z } from "zod";
import { joinRequestSchema, JOIN_PATH } from "@corral/protocol";
import { actorOf, authenticate, publicUrl } from "../auth-request.ts";
import { badRequest, unauthorized } from "../errors.ts";
import type { Services } from "../services/index.ts";
import { loginInput, SESSION_COOKIE, SESSION_TTL_MS } from "../services/auth.ts";
import {
  CONTAINER_ACTIONS,
  createContainerInput,
  logsInput,
  type ContainerAction,
} from "../services/containers.ts";
import { pullInput } from "../services/images.ts";
import { RestRouter, type RestRequest } from "./http.ts";

const optionalHostId = z.object({
  hostId: z.string().min(1, "hostId must not be empty").optional(),
});

export function restRoutes(s: Services): RestRouter {
  const authed =
    (handler: (r: RestRequest, actor: ReturnType<typeof actorOf>) => Promise<unknown>) =>
    async (r: RestRequest) => {
      const user = await authenticate(s.auth, r.req.headers);
      if (!user) throw unauthorized();
      return handler(r, actorOf(user, r.req));
    };
  const query = (r: RestRequest) => Object.fromEntries(r.query);

  return new RestRouter()
    .on("GET", "/api/v1/health", async () => {
      await s.db.$queryRaw`SELECT 1`;
      return { ok: true };
    })
    .on("POST", "/api/v1/auth/login", async (r) => {
      const { token, session } = await s.auth.login(loginInput.parse(await r.body()));
      r.res.setHeader(
        "set-cookie",
        `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`,
      );
      return { token };
    })
    .on("POST", JOIN_PATH, async (r) => s.hosts.join(joinRequestSchema.parse(await r.body())))
    .on(
      "GET",
      "/api/v1/hosts",
      authed(async () => s.hosts.list()),
    )
    .on(
      "GET",
      "/api/v1/hosts/:id",
      authed(async (r) => s.hosts.get(r.params.id as string)),
    )
    .on(
      "POST",
      "/api/v1/hosts/join-tokens",
      authed(async (r, actor) => {
        const t = await s.hosts.createJoinToken(publicUrl(r.req), actor.userId);
        await s.audit.record(actor, "host.join-token", "", { expiresAt: t.expiresAt });
        return t;
      }),
    )
    .on(
      "GET",
      "/api/v1/images",
      authed(async (r) => s.images.list(optionalHostId.parse(query(r)).hostId)),
    )
    .on(
      "POST",
      "/api/v1/images/pull",
      authed(async (r, actor) => s.images.pull(pullInput.parse(await r.body()), actor)),
    )
    .on(
      "GET",
      "/api/v1/containers",
      authed(async (r) => s.containers.list(optionalHostId.parse(query(r)).hostId)),
    )
    .on(
      "POST",
      "/api/v1/containers",
      authed(async (r, actor) =>
        s.containers.create(createContainerInput.parse(await r.body()), actor),
      ),
    )
    .on(
      "GET",
      "/api/v1/containers/:id",
      authed(async (r) => s.containers.get(r.params.id as string)),
    )
    .on(
      "DELETE",
      "/api/v1/containers/:id",
      authed(async (r, actor) => {
        const force = r.query.get("force");
        await s.containers.remove(r.params.id as string, force === "1" || force === "true", actor);
        return {};
      }),
    )
    .on(
      "GET",
      "/api/v1/containers/:id/logs",
      authed(async (r) => {
        const opts = logsInput.parse(query(r));
        const { res, req } = r;
        let close: () => void = () => undefined;
        await new Promise<void>((resolve, reject) => {
          s.containers
            .logs(r.params.id as string, opts, {
              data: (d) => {
                if (!res.headersSent)
                  res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
                res.write(d);
              },
              end: () => resolve(),
            })
            .then((c) => {
              close = c;
              if (!res.headersSent)
                res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
              req.once("close", () => resolve());
            }, reject);
        });
        close();
        res.end();
        return undefined;
      }),
    )
    .on(
      "POST",
      "/api/v1/containers/:id/:action",
      authed(async (r, actor) => {
        const action = r.params.action as string;
        if (!(CONTAINER_ACTIONS as readonly string[]).includes(action)) {
          throw badRequest(
            `action must be one of ${CONTAINER_ACTIONS.join(", ")}, got "${action}"`,
          );
        }
        return s.containers.action(r.params.id as string, action as ContainerAction, actor);
      }),
    );
}
