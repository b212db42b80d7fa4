// Volumes of each host, asked of its agent (the runtime owns them). Sizes are not listed: the
// runtime would walk every file of every volume to count them (`system df`), not cheap enough
// for a page that opens often.
import { z } from "zod";
import type { VolumeInfo } from "@corral/protocol";
import type { Db } from "../db.ts";
import type { AgentHub } from "../sockets/agent-hub.ts";
import type { Actor, AuditService } from "./audit.ts";
import { acrossHosts, requireHost, type FleetList } from "./fleet-query.ts";

const volumeName = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "a volume name may contain [a-zA-Z0-9][a-zA-Z0-9_.-] only")
  .max(255);

export const createVolumeInput = z
  .object({
    hostId: z.string().min(1, "hostId is required"),
    /** omitted: the runtime picks a random name */
    name: volumeName.optional(),
  })
  .strict();

export const removeVolumeInput = z.object({
  hostId: z.string().min(1, "hostId is required"),
  name: z.string().min(1, "name is required").max(256),
});

export const pruneVolumesInput = z.object({ hostId: z.string().min(1, "hostId is required") });

export interface VolumeView extends VolumeInfo {
  hostId: string;
}

export class VolumeService {
  constructor(
    private readonly db: Db,
    private readonly hub: AgentHub,
    private readonly audit: AuditService,
  ) {}

  list(hostId?: string): Promise<FleetList<VolumeView>> {
    return acrossHosts(this.db, this.hub, hostId, async (h) =>
      (await this.hub.command(h, { type: "volumes.list" })).volumes.map((v) => ({
        ...v,
        hostId: h,
      })),
    );
  }

  async create(input: z.infer<typeof createVolumeInput>, actor: Actor): Promise<VolumeView> {
    await requireHost(this.db, input.hostId);
    const { volume } = await this.hub.command(input.hostId, {
      type: "volumes.create",
      ...(input.name ? { name: input.name } : {}),
    });
    await this.audit.record(actor, "volume.create", volume.name, { hostId: input.hostId });
    this.hub.changes.emit("volumes", input.hostId);
    return { ...volume, hostId: input.hostId };
  }

  async remove(input: z.infer<typeof removeVolumeInput>, actor: Actor): Promise<void> {
    await requireHost(this.db, input.hostId);
    await this.hub.command(input.hostId, { type: "volumes.remove", name: input.name });
    await this.audit.record(actor, "volume.remove", input.name, { hostId: input.hostId });
    this.hub.changes.emit("volumes", input.hostId);
  }

  async prune(
    input: z.infer<typeof pruneVolumesInput>,
    actor: Actor,
  ): Promise<{ removed: string[] }> {
    await requireHost(this.db, input.hostId);
    const r = await this.hub.command(input.hostId, { type: "volumes.prune" });
    await this.audit.record(actor, "volume.prune", "", { hostId: input.hostId, ...r });
    this.hub.changes.emit("volumes", input.hostId);
    return r;
  }
}
