// Users, passwords (argon2id), API tokens for scripts and sessions for browsers.
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { z } from "zod";
import type { Db } from "../db.ts";
import type { Actor, AuditService } from "./audit.ts";
import { LOGIN_FAILED } from "./audit-actions.ts";
import { ApiTokenService } from "./api-tokens.ts";
import { LoginLimits, LoginRefused } from "./login-limits.ts";
import { AppError, conflict } from "../errors.ts";
import { ROLES } from "../permissions.ts";
import { hashSecret, newSecret } from "../tokens.ts";

export const loginInput = z.object({
  email: z.string().email("email must be an email address").max(320),
  password: z.string().min(1, "password is required").max(1024),
});

export const createUserInput = z.object({
  email: z.string().email("email must be an email address").max(320),
  password: z
    .string({ message: "password is required" })
    .min(12, "password must be at least 12 characters")
    .max(1024),
  role: z.enum(ROLES, { message: `role must be one of ${ROLES.join(", ")}` }),
});

export const changePasswordInput = z.object({
  currentPassword: z.string().min(1, "currentPassword is required").max(1024),
  newPassword: createUserInput.shape.password,
});

export const SESSION_COOKIE = "corral_session";
export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * How long a token from POST /api/v1/auth/login lives. A CLI login is kept in a config file and
 * reused by a person's commands and scripts, like `docker login`'s credential, so Portainer's
 * 8 h (a browser session's) would have people logging in every morning and pasting passwords
 * into more places. 30 days: a person logs in about once a month, and a copy left on an old
 * laptop or in a CI log dies by itself. What must run longer gets a named token, made on
 * purpose on the Tokens page (no expiry unless its maker sets one).
 */
export const LOGIN_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;

/**
 * Why a browser session's open pages were disconnected: "logout" (it was logged out, here or in
 * another tab) or "invalid" (it no longer opens anything: ended by a password change, its user
 * removed, expired).
 */
export type SessionEndReason = "logout" | "invalid";

export interface AuthUser {
  id: string;
  email: string;
  role: string;
}

/** OWASP's argon2id minimum (19 MiB, 2 passes). */
// Algorithm.Argon2id: a const enum, which isolated modules cannot read.
const ARGON2 = {
  algorithm: 2 as Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
};

/** Verified against when the email is unknown, so both answers take as long. */
let dummyHash: Promise<string> | undefined;

/** What a user is shown as: never its password hash. */
const USER_FIELDS = { id: true, email: true, role: true, createdAt: true } as const;

export class AuthService {
  /**
   * "renewed" (old session secret, new one): a password change gave this browser's session a
   * new secret; its open pages follow it (sockets/browser-live.ts) instead of being logged out.
   */
  readonly renewals = new EventEmitter();

  /**
   * "ended" (session secret, why): a session was ended; its open pages are told why and
   * disconnected (sockets/browser-live.ts). A logout's pages go to the login page; an invalid
   * session's pages go there too, and come back to where they were.
   */
  readonly sessions = new EventEmitter<{ ended: [session: string, reason: SessionEndReason] }>();

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly limits = new LoginLimits(),
    private readonly tokens = new ApiTokenService(db, audit),
  ) {}

  hashPassword(password: string): Promise<string> {
    return hash(password, ARGON2);
  }

  /**
   * Creates the first admin once, from CORRAL_ADMIN_EMAIL / CORRAL_ADMIN_PASSWORD, when no user
   * exists. Without a password nothing is made: the setup page takes over (services/setup.ts).
   */
  async ensureFirstAdmin(
    email: string | undefined,
    password: string | undefined,
  ): Promise<{ created: false } | { created: true; email: string }> {
    if (!password || (await this.db.user.count()) > 0) return { created: false };
    const adminEmail = email || "admin@corral.local";
    await this.db.user.create({
      data: { email: adminEmail, passwordHash: await this.hashPassword(password), role: "admin" },
    });
    return { created: true, email: adminEmail };
  }

  /** A new user (admin only: the route's permission); the password is stored as argon2id. */
  async createUser(
    input: z.infer<typeof createUserInput>,
    actor: Actor,
  ): Promise<AuthUser & { createdAt: Date }> {
    if (await this.db.user.findUnique({ where: { email: input.email } })) {
      throw conflict(`a user ${input.email} exists already`);
    }
    const u = await this.db.user.create({
      data: {
        email: input.email,
        passwordHash: await this.hashPassword(input.password),
        role: input.role,
      },
      select: USER_FIELDS,
    });
    await this.audit.record(actor, "user.create", u.id, { email: u.email, role: u.role });
    return u;
  }

  listUsers(): Promise<Array<AuthUser & { createdAt: Date }>> {
    return this.db.user.findMany({ select: USER_FIELDS, orderBy: { createdAt: "asc" } });
  }

  /**
   * Checks a login; failures count per account and per client address (429 past them), and each
   * is audited as user.login.failed with the email tried (never the password) and the address.
   * `who`: the logged-in user whose current password is checked again, if any.
   */
  private async checkPassword(
    email: string,
    password: string,
    address: string,
    via: "token" | "session" | "password-change",
    who: string | null = null,
  ): Promise<AuthUser> {
    const failed = (detail: object) =>
      this.audit.record({ userId: who, ip: address }, LOGIN_FAILED, email, { via, ...detail });
    try {
      await this.limits.begin(email, address);
    } catch (err) {
      // A refused attempt is not checked against the password, so it tests no guess and its
      // count says nothing new; written each time, a loop of cheap 429s would flood the audit
      // log. So one entry per lock (an account or an address, until its window ends) says it
      // is locked and for how long. The attempts that do reach the password are each written:
      // the limits bound them (10 per account and 30 per address in 15 minutes).
      if (err instanceof LoginRefused && err.firstInWindow) {
        await failed({
          reason: "rate-limited",
          limitedBy: err.limitedBy,
          retryAfterSeconds: err.retryAfterSeconds,
        });
      }
      throw err;
    }
    const user = await this.db.user.findUnique({ where: { email } });
    dummyHash ??= this.hashPassword(randomBytes(16).toString("hex"));
    const ok = await verify(user?.passwordHash ?? (await dummyHash), password).catch(() => false);
    if (!user || !ok) {
      await failed({ reason: user ? "wrong password" : "unknown email" });
      throw new AppError(401, "wrong email or password");
    }
    await this.limits.succeeded(email, address);
    return { id: user.id, email: user.email, role: user.role };
  }

  /**
   * An API token for a script (POST /api/v1/auth/login): no session comes with it. It expires
   * (LOGIN_TOKEN_TTL_MS) and is named after the address it was made from.
   */
  async loginForToken(
    input: z.infer<typeof loginInput>,
    address: string,
  ): Promise<{ token: string; user: AuthUser; expiresAt: Date }> {
    const user = await this.checkPassword(input.email, input.password, address, "token");
    await this.audit.record({ userId: user.id, ip: address }, "user.login", user.id, {
      via: "token",
    });
    const { token, expiresAt } = await this.tokens.createLoginToken(
      user,
      address,
      LOGIN_TOKEN_TTL_MS,
    );
    return { token, user, expiresAt };
  }

  /** A session for a browser (POST /api/v1/auth/session): no API token comes with it. */
  async loginForSession(
    input: z.infer<typeof loginInput>,
    address: string,
  ): Promise<{ session: string; user: AuthUser }> {
    const user = await this.checkPassword(input.email, input.password, address, "session");
    await this.audit.record({ userId: user.id, ip: address }, "user.login", user.id, {
      via: "session",
    });
    return { session: await this.startSession(user.id), user };
  }

  /** A new browser session of a user whose password was just checked; the cookie's value. */
  async startSession(userId: string): Promise<string> {
    const session = newSecret("cse");
    await this.db.session.create({
      data: {
        tokenHash: hashSecret(session),
        userId,
        expiresAt: new Date(Date.now() + SESSION_TTL_MS),
      },
    });
    return session;
  }

  /**
   * Changes the caller's password after checking the current one (counted as a login attempt),
   * and ends every other session of theirs. This browser's session (`current`, when it is the
   * caller's) stays logged in under a new secret (`session`, the new cookie's value): whoever
   * had copied the old cookie is logged out with the rest.
   */
  async changePassword(
    user: AuthUser,
    input: z.infer<typeof changePasswordInput>,
    current: string | undefined,
    actor: Actor,
  ): Promise<{ endedSessions: number; session?: string }> {
    try {
      await this.checkPassword(
        user.email,
        input.currentPassword,
        actor.ip,
        "password-change",
        user.id,
      );
    } catch (err) {
      // Not a 401: the caller is logged in, only this field is wrong.
      if (err instanceof AppError && err.status === 401)
        throw new AppError(400, "currentPassword: that is not your current password");
      throw err;
    }
    await this.db.user.update({
      where: { id: user.id },
      data: { passwordHash: await this.hashPassword(input.newPassword) },
    });
    const mine = current
      ? await this.db.session.findUnique({ where: { tokenHash: hashSecret(current) } })
      : null;
    const keep = mine && mine.userId === user.id && mine.expiresAt > new Date() ? mine : null;
    const ended = await this.db.session.deleteMany({
      where: { userId: user.id, ...(keep ? { id: { not: keep.id } } : {}) },
    });
    let session: string | undefined;
    if (keep && current) {
      session = newSecret("cse");
      await this.db.session.update({
        where: { id: keep.id },
        data: { tokenHash: hashSecret(session), expiresAt: new Date(Date.now() + SESSION_TTL_MS) },
      });
      this.renewals.emit("renewed", current, session); // before the audit entry's recheck
    }
    await this.audit.record(actor, "user.password", user.id, { endedSessions: ended.count });
    return { endedSessions: ended.count, ...(session ? { session } : {}) };
  }

  userForToken(token: string): Promise<AuthUser | undefined> {
    return this.tokens.userFor(token);
  }

  /**
   * Logout: this browser's session ends (the cookie opens nothing from now on). Its open pages
   * are told after the caller's answer is written (the next turn of the event loop): the page
   * that sent the logout follows its own redirect, with its cookie cleared, before it hears.
   */
  async logout(session: string): Promise<void> {
    await this.db.session.deleteMany({ where: { tokenHash: hashSecret(session) } });
    setImmediate(() => this.sessions.emit("ended", session, "logout"));
  }

  async userForSession(session: string): Promise<AuthUser | undefined> {
    const s = await this.db.session.findUnique({
      where: { tokenHash: hashSecret(session) },
      include: { user: true },
    });
    if (!s || s.expiresAt < new Date()) return undefined;
    return { id: s.user.id, email: s.user.email, role: s.user.role };
  }
}
