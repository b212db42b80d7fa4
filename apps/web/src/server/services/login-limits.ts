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

const tooManyAttempts = (retryAfterSeconds: number) =>
  new TooManyRequests(
    retryAfterSeconds,
    `too many failed logins: try again in ${retryAfterSeconds} s`,
  );

export class LoginLimits {
  private readonly account: RateLimiterMemory;
  private readonly address: RateLimiterMemory;

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

  /** Throws 429 (with the seconds to wait) when the account or the address used its budget. */
  async check(email: string, address: string): Promise<void> {
    const [byAccount, byAddress] = await Promise.all([
      this.account.get(email.toLowerCase()),
      this.address.get(address),
    ]);
    let waitMs = 0;
    for (const [res, limiter] of [
      [byAccount, this.account],
      [byAddress, this.address],
    ] as const) {
      if (res && res.consumedPoints >= limiter.points) waitMs = Math.max(waitMs, res.msBeforeNext);
    }
    if (waitMs > 0) throw tooManyAttempts(Math.max(1, Math.ceil(waitMs / 1000)));
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
