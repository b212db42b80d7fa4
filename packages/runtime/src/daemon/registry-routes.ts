// The registry routes of the daemon's API: login, logout and push. (Pull is an image route;
// it goes through the same RegistryAccess for mirrors and credentials.)
import { z } from "zod";
import { ImageError } from "../image/errors.js";
import type { ImageStore } from "../image/store.js";
import { UserError } from "../util/errors.js";
import { disconnectSignal, type Router } from "./http.js";
import type { RegistryAccess } from "./registries.js";

export interface RegistryRouteDeps {
  store: ImageStore;
  registries: RegistryAccess;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x1f\x7f]/;

const LoginSchema = z.object({
  server: z.string().max(1024).optional(),
  // Basic auth sends "user:password": a ':' in the user name (RFC 7617 forbids it) would
  // split elsewhere when the saved credentials are read back.
  username: z
    .string()
    .max(1024)
    .refine((u) => !u.includes(":"), "login: the user name must not contain ':' (RFC 7617)")
    .refine((u) => !CONTROL.test(u), "login: the user name must not contain control characters"),
  password: z.string().max(64 * 1024),
});

/** An image store or registry error as the API's: 404 unknown, 409 conflict, 400 the rest. */
export function rethrow(err: unknown): never {
  if (!(err instanceof ImageError)) throw err;
  const status = err.code === "not-found" ? 404 : err.code === "conflict" ? 409 : 400;
  throw new UserError(err.message, status);
}

export function registerRegistryRoutes(router: Router, deps: RegistryRouteDeps): void {
  const { store, registries } = deps;
  router
    .on("POST", "/v1/auth", async ({ body, res }) => {
      const parsed = LoginSchema.safeParse(await body());
      if (!parsed.success) {
        const refused = parsed.error.issues.find((i) => i.code === "custom");
        throw new UserError(
          refused?.message ?? 'login expects {"server"?, "username", "password"} as strings',
        );
      }
      const { server, username, password } = parsed.data;
      const registry = await registries
        .login(server, username, password, disconnectSignal(res))
        .catch(rethrow);
      return { registry, status: "Login Succeeded" };
    })
    .on("DELETE", "/v1/auth", async ({ query }) => {
      try {
        return registries.logout(query.get("server") ?? undefined);
      } catch (err) {
        rethrow(err);
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
        const result = await registries.push(store, ref, {
          onProgress: send,
          signal: disconnectSignal(res),
        });
        send({ type: "done", ...result });
      } catch (err) {
        send({ type: "error", message: (err as Error).message });
      }
      res.end();
    });
}
