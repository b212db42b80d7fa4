// API tokens for scripts: a user makes named tokens (the secret is shown once, only its SHA-256
// is kept), sees when each was last used and revokes them; admins see and revoke everyone's.
// Login tokens (POST /api/v1/auth/login, services/auth.ts) are listed with them, marked as such;
// an expired token is gone from the list (and refused). Every change (made, used, revoked) is
// emitted for the open Tokens pages (sockets/browser-live.ts).
import { EventEmitter } from "node:events";
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

/**
 * "Last used" is kept to the minute: a token used 100 times a second is written (and its pages
 * told) once a minute, not once a request.
 */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** What an open Tokens page applies to its list (src/client/token-list.ts). */
export type TokenChange =
  /** made, or its "last used" moved */
  | { kind: "put"; token: TokenView }
  | { kind: "revoked"; id: string; userId: string }
  /** the user was removed, and every token of theirs with them */
  | { kind: "user-removed"; userId: string };

type TokenRow = {
  id: string;
  name: string;
  kind: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  userId: string;
};

export class ApiTokenService {
  /** "change": for the token's owner and whoever may see every user's tokens (tokens.manage). */
  readonly changes = new EventEmitter<{ change: [TokenChange] }>();

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
    const view = this.view({ ...t, user: { email: user.email } });
    this.changes.emit("change", { kind: "put", token: view });
    return { ...view, token };
  }

  /**
   * A login token for a script or CLI (POST /api/v1/auth/login, services/auth.ts), named after
   * the address it was made from; this user's expired login tokens are deleted on the way, so
   * they do not pile up.
   */
  async createLoginToken(
    user: AuthUser,
    address: string,
    ttlMs: number,
  ): Promise<{ token: string; expiresAt: Date }> {
    const now = new Date();
    await this.db.apiToken.deleteMany({
      where: { userId: user.id, kind: "login", expiresAt: { lte: now } },
    });
    const token = newSecret("cat");
    const t = await this.db.apiToken.create({
      data: {
        name: `login from ${address || "an unknown address"}`,
        kind: "login",
        expiresAt: new Date(now.getTime() + ttlMs),
        tokenHash: hashSecret(token),
        userId: user.id,
      },
    });
    this.changes.emit("change", {
      kind: "put",
      token: this.view({ ...t, user: { email: user.email } }),
    });
    return { token, expiresAt: t.expiresAt as Date };
  }

  /** The user a bearer token stands for: undefined when unknown, revoked or expired. */
  async userFor(token: string): Promise<AuthUser | undefined> {
    const t = await this.db.apiToken.findUnique({
      where: { tokenHash: hashSecret(token) },
      include: { user: true },
    });
    if (!t || t.revokedAt || (t.expiresAt && t.expiresAt <= new Date())) return undefined;
    if (!t.lastUsedAt || Date.now() - t.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.markUsed(t);
    }
    return { id: t.user.id, email: t.user.email, role: t.user.role };
  }

  /**
   * Writes "last used" unless another request (on any web process) did within the minute: the
   * write is conditional, so a burst of requests that all read the old time writes once, and
   * only the one that wrote tells the pages.
   */
  private async markUsed(t: TokenRow & { user: { email: string } }): Promise<void> {
    const now = new Date();
    const { count } = await this.db.apiToken.updateMany({
      where: {
        id: t.id,
        revokedAt: null, // revoked meanwhile: its pages dropped it, no push brings it back
        OR: [
          { lastUsedAt: null },
          { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) } },
        ],
      },
      data: { lastUsedAt: now },
    });
    if (count === 1) {
      this.changes.emit("change", { kind: "put", token: this.view({ ...t, lastUsedAt: now }) });
    }
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
    this.changes.emit("change", { kind: "revoked", id, userId: t.userId });
    await this.audit.record(actor, "token.revoke", id, { name: t.name, owner: t.userId });
  }

  private view(t: TokenRow & { user: { email: string } }): TokenView {
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
