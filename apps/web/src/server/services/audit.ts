// The audit log: every mutation, who did it, on what, from where. Details are stored with their
// secrets masked (src/server/secrets.ts); each new entry is also emitted for the live page.
import { EventEmitter } from "node:events";
import { z } from "zod";
import type { Db } from "../db.ts";
import { maskDetail } from "../secrets.ts";

export interface Actor {
  userId: string | null;
  ip: string;
}

export interface AuditView {
  id: number;
  time: string;
  userId: string | null;
  /** the user's email; null for the system or a removed user */
  user: string | null;
  action: string;
  target: string;
  detail: Record<string, unknown>;
  ip: string;
}

export const auditQueryInput = z.object({
  /** an action ("user.create") or its family ("user.") */
  action: z.string().max(100).optional(),
  userId: z.string().max(100).optional(),
  /** words in the target, the detail or the address */
  text: z.string().max(200).optional(),
  /** entries older than this id (the next page) */
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type AuditQuery = z.input<typeof auditQueryInput>;

export class AuditService {
  /** "entry" (AuditView): every recorded entry, as the live page shows it */
  readonly entries = new EventEmitter();

  constructor(private readonly db: Db) {}

  async record(actor: Actor, action: string, target: string, detail: object = {}): Promise<void> {
    const row = await this.db.auditEntry.create({
      data: {
        userId: actor.userId,
        action,
        target,
        detail: JSON.stringify(maskDetail(detail)),
        ip: actor.ip,
      },
      include: { user: { select: { email: true } } },
    });
    this.entries.emit("entry", this.view(row));
  }

  /** Newest first, a page at a time (`before` the last id seen), filtered. */
  async list(query: AuditQuery): Promise<{ entries: AuditView[]; next: number | null }> {
    const q = auditQueryInput.parse(query);
    const rows = await this.db.auditEntry.findMany({
      where: {
        ...(q.before ? { id: { lt: q.before } } : {}),
        ...(q.action
          ? q.action.endsWith(".")
            ? { action: { startsWith: q.action } }
            : { action: q.action }
          : {}),
        ...(q.userId ? { userId: q.userId } : {}),
        ...(q.text
          ? {
              OR: [
                { target: { contains: q.text } },
                { detail: { contains: q.text } },
                { ip: { contains: q.text } },
                { user: { email: { contains: q.text } } },
              ],
            }
          : {}),
      },
      orderBy: { id: "desc" },
      take: q.limit + 1,
      include: { user: { select: { email: true } } },
    });
    const page = rows.slice(0, q.limit);
    return {
      entries: page.map((r) => this.view(r)),
      next: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null,
    };
  }

  private view(r: {
    id: number;
    time: Date;
    userId: string | null;
    user: { email: string } | null;
    action: string;
    target: string;
    detail: string;
    ip: string;
  }): AuditView {
    let detail: Record<string, unknown> = {};
    try {
      detail = JSON.parse(r.detail || "{}") as Record<string, unknown>;
    } catch {
      detail = { raw: r.detail };
    }
    return {
      id: r.id,
      time: r.time.toISOString(),
      userId: r.userId,
      user: r.user?.email ?? null,
      action: r.action,
      target: r.target,
      detail,
      ip: r.ip,
    };
  }
}
