// Host management (admins): drain a host (no new container is placed there; what runs keeps
// running), undrain it, remove it from the fleet (its agent is cut off and refused from then
// on; its containers keep running on the machine). Audited, and pushed to every browser.
import { z } from "zod";
import type { AgentHub } from "../sockets/agent-hub.ts";
import type { Actor, AuditService } from "./audit.ts";
import type { HostService, HostView } from "./hosts.ts";

export const drainInput = z
  .object({
    /** shown in the 409 a placement gets, e.g. "kernel upgrade tonight" */
    reason: z.string().trim().max(200, "reason is at most 200 characters").optional(),
  })
  .strict();
export type DrainInput = z.infer<typeof drainInput>;

export class HostAdminService {
  constructor(
    private readonly hosts: HostService,
    private readonly hub: AgentHub,
    private readonly audit: AuditService,
  ) {}

  async drain(hostId: string, input: DrainInput, actor: Actor): Promise<HostView> {
    const h = await this.hosts.drain(hostId, input.reason ?? "");
    await this.audit.record(actor, "host.drain", hostId, { name: h.name, reason: input.reason });
    this.hub.changes.emit("host", hostId);
    return h;
  }

  async undrain(hostId: string, actor: Actor): Promise<HostView> {
    const h = await this.hosts.undrain(hostId);
    await this.audit.record(actor, "host.undrain", hostId, { name: h.name });
    this.hub.changes.emit("host", hostId);
    return h;
  }

  async remove(hostId: string, actor: Actor): Promise<{ name: string; containers: number }> {
    const removed = await this.hosts.remove(hostId);
    // After the rows are gone: a reconnect now meets the revoked credential.
    this.hub.disconnect(hostId);
    this.hub.hostStats.forget(hostId);
    await this.audit.record(actor, "host.remove", hostId, removed);
    this.hub.changes.emit("removed", hostId);
    return removed;
  }
}
