// Join tokens: an admin makes one (with an expiry), an agent trades it once for its host's
// credential (HostService.join), and until then it can be listed and revoked. Only the
// token's SHA-256 is stored: the list shows when, by whom and what became of each.
import { z } from "zod";
import type { Db } from "../db.ts";
import { conflict, notFound } from "../errors.ts";
import { hashSecret, newSecret } from "../tokens.ts";
import type { Actor, AuditService } from "./audit.ts";

/** Default and bounds of a join token's life, in hours. */
export const JOIN_TOKEN_TTL_HOURS = { default: 24, min: 1, max: 24 * 7 } as const;

export const createJoinTokenInput = z
  .object({
    expiresInHours: z
      .number({ message: "expiresInHours is a number of hours" })
      .int("expiresInHours is a whole number of hours")
      .min(JOIN_TOKEN_TTL_HOURS.min, `expiresInHours is at least ${JOIN_TOKEN_TTL_HOURS.min}`)
      .max(
        JOIN_TOKEN_TTL_HOURS.max,
        `expiresInHours is at most ${JOIN_TOKEN_TTL_HOURS.max} (a week)`,
      )
      .optional(),
  })
  .strict();
export type CreateJoinTokenInput = z.infer<typeof createJoinTokenInput>;

export interface JoinTokenView {
  id: string;
  createdAt: string;
  createdBy: string | null;
  expiresAt: string;
  /** what it is now: usable, used (by which host), revoked or expired */
  status: "usable" | "used" | "revoked" | "expired";
  usedAt: string | null;
  hostId: string | null;
  hostName: string | null;
  revokedAt: string | null;
}

export class JoinTokenService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
  ) {}

  /** A one-time join token and the one-line agent command that uses it. */
  async create(
    serverUrl: string,
    actor: Actor,
    input: CreateJoinTokenInput = {},
  ): Promise<{ id: string; token: string; expiresAt: string; command: string }> {
    const token = newSecret("cjt");
    const hours = input.expiresInHours ?? JOIN_TOKEN_TTL_HOURS.default;
    const expiresAt = new Date(Date.now() + hours * 3600_000);
    const row = await this.db.joinToken.create({
      data: { tokenHash: hashSecret(token), createdById: actor.userId, expiresAt },
    });
    await this.audit.record(actor, "host.join-token", row.id, { expiresAt });
    return {
      id: row.id,
      token,
      expiresAt: expiresAt.toISOString(),
      // npm run (not npx, which would fetch an unknown package outside a checkout) builds first.
      command: `npm run agent -- --server ${serverUrl} --token ${token}`,
    };
  }

  /** Every token, newest first, with who made it and which host used it. */
  async list(): Promise<JoinTokenView[]> {
    const rows = await this.db.joinToken.findMany({ orderBy: { createdAt: "desc" }, take: 200 });
    const ids = (pick: (r: (typeof rows)[number]) => string | null) => [
      ...new Set(rows.map(pick).filter((x): x is string => x !== null)),
    ];
    const [users, hosts] = await Promise.all([
      this.db.user.findMany({
        where: { id: { in: ids((r) => r.createdById) } },
        select: { id: true, email: true },
      }),
      this.db.host.findMany({
        where: { id: { in: ids((r) => r.hostId) } },
        select: { id: true, name: true, revokedAt: true },
      }),
    ]);
    const email = new Map(users.map((u) => [u.id, u.email]));
    const host = new Map(hosts.map((h) => [h.id, h]));
    const now = Date.now();
    return rows.map((r) => {
      const h = r.hostId ? host.get(r.hostId) : undefined;
      return {
        id: r.id,
        createdAt: r.createdAt.toISOString(),
        createdBy: r.createdById ? (email.get(r.createdById) ?? null) : null,
        expiresAt: r.expiresAt.toISOString(),
        status: r.usedAt
          ? "used"
          : r.revokedAt
            ? "revoked"
            : r.expiresAt.getTime() <= now
              ? "expired"
              : "usable",
        usedAt: r.usedAt?.toISOString() ?? null,
        // a removed host's name is kept on its token: the list says what the token did
        hostId: h && !h.revokedAt ? h.id : null,
        hostName: h ? h.name : null,
        revokedAt: r.revokedAt?.toISOString() ?? null,
      };
    });
  }

  /** Revokes a token not used yet (again: nothing changes); a used one is spent: 409. */
  async revoke(id: string, actor: Actor): Promise<void> {
    const t = await this.db.joinToken.findUnique({ where: { id } });
    if (!t) throw notFound(`no join token ${id}`);
    if (t.usedAt) {
      throw conflict(
        `join token ${id} was already used by a host: remove that host to shut it out`,
      );
    }
    if (t.revokedAt) return;
    await this.db.joinToken.update({ where: { id }, data: { revokedAt: new Date() } });
    await this.audit.record(actor, "host.join-token.revoke", id);
  }
}
