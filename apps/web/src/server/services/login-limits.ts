// Failed logins counted per account and per client address (rate-limiter-flexible's in-memory
// store: one web process holds the counts, which is how Corral runs). An account is tried
// from anywhere, an address tries many accounts: each has its own budget.
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { TooManyRequests } from "../errors.ts";

export interface LoginLimitOptions {
  /** failures of one account (any address) within the window */
  perAccount: number;
  /** failures from one address (any account) within the window; an office's NAT shares one */
  perAddress: number;
  windowSeconds: number;
}

export const LOGIN_LIMITS: LoginLimitOptions = {
  perAccount: 10,
  perAddress: 30,
  windowSeconds: 15 * 60,
};

/**
 * A login refused before its password is checked. `firstInWindow` is true for the first refusal
 * of a locked account or address: only that one is audited (services/auth.ts).
 */
export class LoginRefused extends TooManyRequests {
  constructor(
    retryAfterSeconds: number,
    readonly limitedBy: "account" | "address",
    readonly firstInWindow: boolean,
  ) {
    super(retryAfterSeconds, `too many failed logins: try again in ${retryAfterSeconds} s`);
  }
}

export class LoginLimits {
  private readonly account: RateLimiterMemory;
  private readonly address: RateLimiterMemory;
  /** "account:KEY" / "address:KEY" of each lock already reported → when that lock ends (ms) */
  private readonly reported = new Map<string, number>();

  constructor(opts: LoginLimitOptions = LOGIN_LIMITS) {
    this.account = new RateLimiterMemory({
      keyPrefix: "account",
      points: opts.perAccount,
      duration: opts.windowSeconds,
    });
    this.address = new RateLimiterMemory({
      keyPrefix: "address",
      points: opts.perAddress,
      duration: opts.windowSeconds,
    });
  }

  /**
   * Throws LoginRefused (429, with the seconds to wait) when the account or the address used its
   * budget; the account's lock is named first when both are.
   */
  async check(email: string, address: string): Promise<void> {
    const account = email.toLowerCase();
    const [byAccount, byAddress] = await Promise.all([
      this.account.get(account),
      this.address.get(address),
    ]);
    let waitMs = 0;
    let lock: { by: "account" | "address"; key: string; ms: number } | undefined;
    for (const [res, limiter, by, key] of [
      [byAccount, this.account, "account", account],
      [byAddress, this.address, "address", address],
    ] as const) {
      if (res && res.consumedPoints >= limiter.points) {
        waitMs = Math.max(waitMs, res.msBeforeNext);
        lock ??= { by, key, ms: res.msBeforeNext };
      }
    }
    if (!lock) return;
    const now = Date.now();
    const id = `${lock.by}:${lock.key}`;
    const first = (this.reported.get(id) ?? 0) <= now;
    if (first) {
      for (const [k, until] of this.reported) if (until <= now) this.reported.delete(k);
      this.reported.set(id, now + lock.ms);
    }
    throw new LoginRefused(Math.max(1, Math.ceil(waitMs / 1000)), lock.by, first);
  }

  async failed(email: string, address: string): Promise<void> {
    const spend = (limiter: RateLimiterMemory, key: string) =>
      limiter.consume(key).catch((r: unknown) => {
        if (!(r instanceof RateLimiterRes)) throw r; // over the budget: already counted
      });
    await Promise.all([spend(this.account, email.toLowerCase()), spend(this.address, address)]);
  }

  /** A right password clears its account's failures (not its address's). */
  async succeeded(email: string): Promise<void> {
    await this.account.delete(email.toLowerCase());
  }
}
