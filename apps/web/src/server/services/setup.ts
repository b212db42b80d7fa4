// First run without CORRAL_ADMIN_PASSWORD: the server makes a one-time setup token and prints it
// to its own console; the setup page (POST /api/v1/setup) needs it to create the first admin.
// Whoever reaches the page first cannot take Corral over without that console. Once a user
// exists, setup is closed for good.
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Db } from "../db.ts";
import { AppError, conflict } from "../errors.ts";
import { hashSecret, newSecret } from "../tokens.ts";
import type { AuditService } from "./audit.ts";
import { createUserInput, type AuthService } from "./auth.ts";

export const setupInput = z.object({
  token: z.string({ message: "token is required" }).trim().min(1, "token is required").max(200),
  email: createUserInput.shape.email,
  password: createUserInput.shape.password,
});

const CLOSED = "Corral is set up already: log in (an admin adds users)";

export class SetupService {
  /** SHA-256 of the token printed at start; undefined: no setup is open */
  private tokenHash: string | undefined;
  /** one setup at a time: two right tokens at once still make one admin */
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
  ) {}

  /** A new one-time token when no user exists (to print), else undefined. */
  async begin(): Promise<string | undefined> {
    if ((await this.db.user.count()) > 0) return undefined;
    const token = newSecret("cst");
    this.tokenHash = hashSecret(token);
    return token;
  }

  /** Whether the setup page can be used: no user yet. */
  async open(): Promise<boolean> {
    return (await this.db.user.count()) === 0;
  }

  /** Creates the first admin and its session (the cookie's value). */
  async complete(
    input: z.infer<typeof setupInput>,
    ip: string,
  ): Promise<{ session: string; user: { id: string; email: string; role: string } }> {
    const run = this.running.then(async () => {
      if (!(await this.open())) throw conflict(CLOSED);
      const given = Buffer.from(hashSecret(input.token));
      if (!this.tokenHash || !timingSafeEqual(given, Buffer.from(this.tokenHash))) {
        throw new AppError(
          403,
          "token: wrong setup token: use the one the server printed when it started (restart it for a new one)",
        );
      }
      const user = await this.db.user.create({
        data: {
          email: input.email,
          passwordHash: await this.auth.hashPassword(input.password),
          role: "admin",
        },
        select: { id: true, email: true, role: true },
      });
      this.tokenHash = undefined;
      await this.audit.record({ userId: user.id, ip }, "setup.admin", user.id, {
        email: user.email,
      });
      return { session: await this.auth.startSession(user.id), user };
    });
    this.running = run.catch(() => undefined);
    return run;
  }
}
