// Networks of each host, asked of its agent (the runtime owns them; nothing is copied into the
// database). Creating and removing go to the host; the runtime refuses to remove a network
// that containers use, and its words reach the caller.
import { z } from "zod";
import type { NetworkInfo } from "@corral/protocol";
import type { Db } from "../db.ts";
import type { AgentHub } from "../sockets/agent-hub.ts";
import type { Actor, AuditService } from "./audit.ts";
import { acrossHosts, requireHost, type FleetList } from "./fleet-query.ts";

const ipv4Cidr = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

export const createNetworkInput = z
  .object({
    hostId: z.string().min(1, "hostId is required"),
    name: z
      .string()
      .regex(
        /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/,
        "a network name may contain [a-zA-Z0-9][a-zA-Z0-9_.-] only",
      )
      .max(64),
    subnet: z.string().regex(ipv4Cidr, "subnet is an IPv4 CIDR, e.g. 10.30.0.0/24").optional(),
  })
  .strict();

export const removeNetworkInput = z.object({
  hostId: z.string().min(1, "hostId is required"),
  name: z.string().min(1, "name is required").max(128),
});

export interface NetworkView extends NetworkInfo {
  hostId: string;
  /** names of the attached containers, as the database knows them (ids when unknown) */
  containerNames: string[];
}

export class NetworkService {
  constructor(
    private readonly db: Db,
    private readonly hub: AgentHub,
    private readonly audit: AuditService,
  ) {}

  async list(hostId?: string): Promise<FleetList<NetworkView>> {
    const list = await acrossHosts(this.db, this.hub, hostId, async (h) =>
      (await this.hub.command(h, { type: "networks.list" })).networks.map((n) => ({
        ...n,
        hostId: h,
      })),
    );
    const ids = list.items.flatMap((n) => n.containers);
    const names = new Map(
      (
        await this.db.container.findMany({
          where: { id: { in: ids } },
          select: { id: true, name: true },
        })
      ).map((c) => [c.id, c.name]),
    );
    return {
      ...list,
      items: list.items.map((n) => ({
        ...n,
        containerNames: n.containers.map((id) => names.get(id) ?? id.slice(0, 12)),
      })),
    };
  }

  async create(
    input: z.infer<typeof createNetworkInput>,
    actor: Actor,
  ): Promise<{ id: string; name: string }> {
    await requireHost(this.db, input.hostId);
    const r = await this.hub.command(input.hostId, {
      type: "networks.create",
      name: input.name,
      ...(input.subnet ? { subnet: input.subnet } : {}),
    });
    await this.audit.record(actor, "network.create", r.name, {
      hostId: input.hostId,
      subnet: input.subnet ?? "",
    });
    this.hub.changes.emit("networks", input.hostId);
    return r;
  }

  async remove(input: z.infer<typeof removeNetworkInput>, actor: Actor): Promise<void> {
    await requireHost(this.db, input.hostId);
    await this.hub.command(input.hostId, { type: "networks.remove", name: input.name });
    await this.audit.record(actor, "network.remove", input.name, { hostId: input.hostId });
    this.hub.changes.emit("networks", input.hostId);
  }
}
