// The audit log: every mutation, who did it, on what, from where.
import type { Db } from "../db.ts";

export interface Actor {
  userId: string | null;
  ip: string;
}

export class AuditService {
  constructor(private readonly db: Db) {}

  async record(actor: Actor, action: string, target: string, detail: object = {}): Promise<void> {
    await this.db.auditEntry.create({
      data: {
        userId: actor.userId,
        action,
        target,
        detail: JSON.stringify(detail),
        ip: actor.ip,
      },
    });
  }
}
