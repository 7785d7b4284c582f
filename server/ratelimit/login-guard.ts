import { createHash } from "node:crypto";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Cache } from "../cache/cache.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { waitHint } from "./rate-limiter.ts";

/** What the login guard is built from (limiters from the cluster state, so shared across processes with Redis). */
export interface LoginGuardContext {
  /** Failed logins per (account, client IP). */
  pairLimiter: RateLimiter;
  /** Failed logins per account, from sources not known-good for it. */
  accountLimiter: RateLimiter;
  /** Where known-good (account, IP) pairs are remembered. */
  cache: Cache;
  /** How long a source that logged in stays known-good; 0: never remembered. */
  knownSourceMs: number;
}

const digest = (email: string) => createHash("sha256").update(email.trim().toLowerCase()).digest("base64url").slice(0, 22);

/**
 * Password guessing limited per account without handing attackers a lockout button. Only
 * failures are charged, and they are charged to two buckets:
 * - per (account, IP): the guesser's own backoff. Guessing from one address slows down that
 *   address for that account only; the owner elsewhere is not touched.
 * - per account, from unknown sources: a looser cap across all addresses, against guessing spread
 *   over many IPs. Once it is used up, an address that has not logged in to the account is
 *   refused before the password is checked — but an address that has (known-good, remembered
 *   `knownSourceMs`) is not subject to it, so the owner can still log in from home or school.
 * Accounts are keyed by a hash of the normalised email, whether or not it exists (no enumeration).
 */
export class LoginGuard {
  constructor(private readonly ctx: LoginGuardContext) {}

  /** Runs `attempt` if neither bucket stops it; charges a failure (INVALID_CREDENTIALS), remembers a success. */
  async attempt<T>(email: string, ip: string, attempt: () => Promise<T>): Promise<T> {
    const account = digest(email);
    const pairKey = `${account}:${ip}`;
    const knownKey = `login-source:${pairKey}`;
    const pair = await this.ctx.pairLimiter.peek(pairKey);
    if (!pair.allowed) throw refused(pair.retryAfterMs, "from this address");
    const known = this.ctx.knownSourceMs > 0 && (await this.ctx.cache.get<number>(knownKey)) !== undefined;
    if (!known) {
      const overall = await this.ctx.accountLimiter.peek(account);
      if (!overall.allowed) throw refused(overall.retryAfterMs, "from addresses that have not logged in to it before");
    }
    try {
      const result = await attempt();
      if (this.ctx.knownSourceMs > 0) await this.ctx.cache.set(knownKey, 1, this.ctx.knownSourceMs);
      return result;
    } catch (err) {
      if (err instanceof CoachwireError && err.code === "INVALID_CREDENTIALS") {
        await this.ctx.pairLimiter.consume(pairKey);
        if (!known) await this.ctx.accountLimiter.consume(account);
      }
      throw err;
    }
  }
}

function refused(retryAfterMs: number, where: string): CoachwireError {
  return new CoachwireError("RATE_LIMITED", `Too many failed logins to this account ${where}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, waitHint(retryAfterMs));
}
