// API tokens for scripts: a user makes named tokens (the secret is shown once, only its SHA-256
// is kept), sees when each was last used and revokes them; admins see and revoke everyone's.
// Login tokens (POST /api/v1/auth/login, services/auth.ts) are listed with them, marked as such;
// an expired token is gone from the list (and refused).
import { z } from "zod";
import type { Db } from "../db.ts";
import { notFound } from "../errors.ts";
import { can } from "../permissions.ts";
import { hashSecret, newSecret } from "../tokens.ts";
import type { Actor, AuditService } from "./audit.ts";
import type { AuthUser } from "./auth.ts";

export const createTokenInput = z.object({
  name: z
    .string({ message: "name is required" })
    .trim()
    .min(1, "name is required, e.g. ci-deploy")
    .max(100, "name is at most 100 characters"),
  /** omitted: the token never expires */
  expiresInDays: z.coerce
    .number({ message: "expiresInDays must be a number of days" })
    .int("expiresInDays must be a whole number of days")
    .min(1, "expiresInDays is at least 1")
    .max(3650, "expiresInDays is at most 3650 (10 years)")
    .optional(),
});

export interface TokenView {
  id: string;
  name: string;
  /** "login": made by POST /api/v1/auth/login; "named": made here */
  kind: "login" | "named";
  createdAt: string;
  /** null: never expires */
  expiresAt: string | null;
  lastUsedAt: string | null;
  userId: string;
  user: string;
}

export class ApiTokenService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
  ) {}

  async create(
    user: AuthUser,
    input: z.infer<typeof createTokenInput>,
    actor: Actor,
  ): Promise<TokenView & { token: string }> {
    const token = newSecret("cat");
    const t = await this.db.apiToken.create({
      data: {
        name: input.name,
        tokenHash: hashSecret(token),
        userId: user.id,
        expiresAt: input.expiresInDays
          ? new Date(Date.now() + input.expiresInDays * 24 * 3600 * 1000)
          : null,
      },
    });
    await this.audit.record(actor, "token.create", t.id, {
      name: t.name,
      ...(t.expiresAt ? { expiresAt: t.expiresAt.toISOString() } : {}),
    });
    return { ...this.view({ ...t, user: { email: user.email } }), token };
  }

  /** The caller's live tokens (not revoked, not expired); everyone's for tokens.manage. */
  async list(user: AuthUser): Promise<TokenView[]> {
    const rows = await this.db.apiToken.findMany({
      where: {
        revokedAt: null,
        OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }],
        ...(can(user.role, "tokens.manage") ? {} : { userId: user.id }),
      },
      include: { user: { select: { email: true } } },
      orderBy: { createdAt: "desc" },
    });
    return rows.map((t) => this.view(t));
  }

  /** Another user's token is "not found" to a role without tokens.manage: nothing leaks. */
  async revoke(user: AuthUser, id: string, actor: Actor): Promise<void> {
    const t = await this.db.apiToken.findUnique({ where: { id } });
    if (!t || t.revokedAt || (t.userId !== user.id && !can(user.role, "tokens.manage"))) {
      throw notFound(`no token ${id}`);
    }
    await this.db.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
    await this.audit.record(actor, "token.revoke", id, { name: t.name, owner: t.userId });
  }

  private view(t: {
    id: string;
    name: string;
    kind: string;
    createdAt: Date;
    expiresAt: Date | null;
    lastUsedAt: Date | null;
    userId: string;
    user: { email: string };
  }): TokenView {
    return {
      id: t.id,
      name: t.name,
      kind: t.kind === "login" ? "login" : "named",
      createdAt: t.createdAt.toISOString(),
      expiresAt: t.expiresAt?.toISOString() ?? null,
      lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
      userId: t.userId,
      user: t.user.email,
    };
  }
}
