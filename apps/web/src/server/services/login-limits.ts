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
   * Starts a login attempt: counts it against the account's and the address's budgets before
   * the password is checked, so parallel guesses cannot all pass a check made before any of
   * them has failed. Throws LoginRefused (429, with the seconds to wait) when either budget is
   * used up, the account's lock named first; a refused try is given back (it tests nothing). A
   * right password gives its point back too (succeeded); a wrong one keeps it.
   */
  async begin(email: string, address: string): Promise<void> {
    const account = email.toLowerCase();
    const take = (limiter: RateLimiterMemory, key: string) =>
      limiter.consume(key).catch((r: unknown) => {
        if (r instanceof RateLimiterRes) return r; // over the budget: refused below
        throw r;
      });
    const [byAccount, byAddress] = await Promise.all([
      take(this.account, account),
      take(this.address, address),
    ]);
    let waitMs = 0;
    let lock: { by: "account" | "address"; key: string; ms: number } | undefined;
    for (const [res, limiter, by, key] of [
      [byAccount, this.account, "account", account],
      [byAddress, this.address, "address", address],
    ] as const) {
      if (res.consumedPoints > limiter.points) {
        waitMs = Math.max(waitMs, res.msBeforeNext);
        lock ??= { by, key, ms: res.msBeforeNext };
      }
    }
    if (!lock) return;
    await Promise.all([this.giveBack(this.account, account), this.giveBack(this.address, address)]);
    const now = Date.now();
    const id = `${lock.by}:${lock.key}`;
    const first = (this.reported.get(id) ?? 0) <= now;
    if (first) {
      for (const [k, until] of this.reported) if (until <= now) this.reported.delete(k);
      this.reported.set(id, now + lock.ms);
    }
    throw new LoginRefused(Math.max(1, Math.ceil(waitMs / 1000)), lock.by, first);
  }

  /** A right password clears its account's failures and gives its address's point back. */
  async succeeded(email: string, address: string): Promise<void> {
    await Promise.all([
      this.account.delete(email.toLowerCase()),
      this.giveBack(this.address, address),
    ]);
  }

  /** One point back, unless the window ended meanwhile (no count below zero). */
  private async giveBack(limiter: RateLimiterMemory, key: string): Promise<void> {
    const res = await limiter.get(key);
    if (res && res.consumedPoints > 0) await limiter.reward(key, 1);
  }
}
