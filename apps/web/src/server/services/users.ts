// Users after their creation (services/auth.ts makes them): an admin changes a role or removes
// a user, never the last admin, so Corral always has someone who can manage it.
import { z } from "zod";
import type { Db } from "../db.ts";
import { conflict, notFound } from "../errors.ts";
import { ROLES } from "../permissions.ts";
import type { Actor, AuditService } from "./audit.ts";

export const setRoleInput = z.object({
  id: z.string().min(1, "id is required"),
  role: z.enum(ROLES, { message: `role must be one of ${ROLES.join(", ")}` }),
});

const LAST_ADMIN =
  "is the last admin: make another user admin first, or nobody could manage users and hosts";

export class UserService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
  ) {}

  async setRole(
    input: z.infer<typeof setRoleInput>,
    actor: Actor,
  ): Promise<{ id: string; email: string; role: string }> {
    // One transaction: two admins demoting each other at once cannot both succeed.
    const u = await this.db.$transaction(async (tx) => {
      const user = await tx.user.findUnique({ where: { id: input.id } });
      if (!user) throw notFound(`no user ${input.id}`);
      if (user.role === "admin" && input.role !== "admin") {
        const admins = await tx.user.count({ where: { role: "admin" } });
        if (admins <= 1) throw conflict(`${user.email} ${LAST_ADMIN}`);
      }
      return tx.user.update({
        where: { id: input.id },
        data: { role: input.role },
        select: { id: true, email: true, role: true },
      });
    });
    await this.audit.record(actor, "user.role", u.id, { email: u.email, role: u.role });
    return u;
  }

  /** Removes a user with its sessions and API tokens (the audit log keeps its entries). */
  async remove(id: string, actor: Actor): Promise<void> {
    const email = await this.db.$transaction(async (tx) => {
      const user = await tx.user.findUnique({ where: { id } });
      if (!user) throw notFound(`no user ${id}`);
      if (user.role === "admin" && (await tx.user.count({ where: { role: "admin" } })) <= 1) {
        throw conflict(`${user.email} ${LAST_ADMIN}`);
      }
      await tx.user.delete({ where: { id } });
      return user.email;
    });
    await this.audit.record(actor, "user.remove", id, { email });
  }
}
