// The registry routes of the daemon's API: login, logout and push. (Pull is an image route;
// it goes through the same RegistryAccess for mirrors and credentials.)
import { z } from "zod";
import { ImageError } from "../image/errors.js";
import type { ImageStore } from "../image/store.js";
import { UserError } from "../util/errors.js";
import type { Router } from "./http.js";
import type { RegistryAccess } from "./registries.js";

export interface RegistryRouteDeps {
  store: ImageStore;
  registries: RegistryAccess;
}

const LoginSchema = z.object({
  server: z.string().max(1024).optional(),
  username: z.string().max(1024),
  password: z.string().max(64 * 1024),
});

/** An ImageError as the API's error: 404 for what is missing, 400 for the rest. */
function userError(err: unknown): unknown {
  if (!(err instanceof ImageError)) return err;
  return new UserError(err.message, err.code === "not-found" ? 404 : 400);
}

export function registerRegistryRoutes(router: Router, deps: RegistryRouteDeps): void {
  const { store, registries } = deps;
  router
    .on("POST", "/v1/auth", async ({ body }) => {
      const parsed = LoginSchema.safeParse(await body());
      if (!parsed.success) {
        throw new UserError('login expects {"server"?, "username", "password"} as strings');
      }
      const { server, username, password } = parsed.data;
      try {
        const registry = await registries.login(server, username, password);
        return { registry, status: "Login Succeeded" };
      } catch (err) {
        throw userError(err);
      }
    })
    .on("DELETE", "/v1/auth", async ({ query }) => {
      try {
        return registries.logout(query.get("server") ?? undefined);
      } catch (err) {
        throw userError(err);
      }
    })
    // NDJSON, as pull: one progress event per line, then {"type":"done",...} or
    // {"type":"error","message"}.
    .on("POST", "/v1/images/push", async ({ query, res }) => {
      const ref = query.get("ref");
      if (!ref)
        throw new UserError("push needs an image reference, e.g. registry.example.com/app:1");
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      const send = (event: object): void => void res.write(JSON.stringify(event) + "\n");
      try {
        const result = await registries.push(store, ref, { onProgress: send });
        send({ type: "done", ...result });
      } catch (err) {
        send({ type: "error", message: (err as Error).message });
      }
      res.end();
    });
}
