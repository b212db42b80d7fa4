// The network routes of the daemon's API: Docker's `network` commands (create, ls, inspect,
// rm, connect, disconnect), validated here and carried out by the network manager.
import { z } from "zod";
import { networkAliasesSchema } from "../container/config.js";
import type { NetworkInfo } from "../network/networks.js";
import { UserError } from "../util/errors.js";
import type { ContainerService } from "./containers.js";
import type { Router } from "./http.js";

const createSchema = z.object({
  name: z.string().min(1, "a network needs a name"),
  subnet: z.string().optional(),
  gateway: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
});

const connectSchema = z.object({
  container: z.string().min(1, "name the container to connect"),
  aliases: networkAliasesSchema.default([]),
});

function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new UserError(`invalid ${what}: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""}`);
}

export function registerNetworkRoutes(router: Router, containers: ContainerService): void {
  const network = containers.network;
  /** Docker's network inspect shape. */
  const view = (n: NetworkInfo): Record<string, unknown> => ({
    Name: n.name,
    Id: n.id,
    Created: n.config?.created ?? "",
    Scope: "local",
    Driver: n.driver,
    IPAM: {
      Driver: "default",
      Config: n.config ? [{ Subnet: n.config.subnet, Gateway: n.config.gateway }] : [],
    },
    Internal: false,
    Labels: n.config?.labels ?? {},
    Options: n.config ? { "com.docker.network.bridge.name": n.config.bridge } : {},
    Containers: Object.fromEntries(
      network.endpointsOn(n.name).map((e) => [
        e.id,
        {
          Name: e.name,
          MacAddress: e.attachment.macAddress,
          IPv4Address: `${e.attachment.ipAddress}/${e.attachment.prefixLen}`,
        },
      ]),
    ),
  });
  router
    .on("GET", "/v1/networks", async () => network.list().map(view))
    .on("GET", "/v1/networks/:ref", async ({ params }) => view(network.find(params.ref as string)))
    .on("POST", "/v1/networks", async ({ body }) => {
      const req = parse(createSchema, await body(), "network");
      const config = await network.create(req);
      return { Id: config.id, Name: config.name };
    })
    .on("DELETE", "/v1/networks/:ref", async ({ params }) => {
      const removed = await network.remove(params.ref as string, (name) =>
        containers.networkUsers(name),
      );
      return { Id: removed.id, Name: removed.name };
    })
    .on("POST", "/v1/networks/:ref/connect", async ({ params, body }) => {
      const req = parse(connectSchema, await body(), "connect request");
      await containers.connectNetwork(req.container, params.ref as string, req.aliases);
      return {};
    })
    .on("POST", "/v1/networks/:ref/disconnect", async ({ params, body }) => {
      const req = parse(connectSchema, await body(), "disconnect request");
      await containers.disconnectNetwork(req.container, params.ref as string);
      return {};
    });
}
