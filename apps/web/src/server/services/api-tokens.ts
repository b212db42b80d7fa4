// API tokens for scripts: a user makes named tokens (the secret is shown once, only its SHA-256
// is kept), sees when each was last used and revokes them; admins see and revoke everyone's.
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
});

export interface TokenView {
  id: string;
  name: string;
  createdAt: string;
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
      data: { name: input.name, tokenHash: hashSecret(token), userId: user.id },
    });
    await this.audit.record(actor, "token.create", t.id, { name: t.name });
    return { ...this.view({ ...t, user: { email: user.email } }), token };
  }

  /** The caller's live tokens; everyone's for a role with tokens.manage. */
  async list(user: AuthUser): Promise<TokenView[]> {
    const rows = await this.db.apiToken.findMany({
      where: { revokedAt: null, ...(can(user.role, "tokens.manage") ? {} : { userId: user.id }) },
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
    createdAt: Date;
    lastUsedAt: Date | null;
    userId: string;
    user: { email: string };
  }): TokenView {
    return {
      id: t.id,
      name: t.name,
      createdAt: t.createdAt.toISOString(),
      lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
      userId: t.userId,
      user: t.user.email,
    };
  }
}
