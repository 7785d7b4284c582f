/** A token bucket per key: `capacity` tokens, refilled at `refillPerSec`. */
export interface RateLimitRule {
  capacity: number;
  refillPerSec: number;
}

export interface RateDecision {
  allowed: boolean;
  /** When refused: how long until one token is back. */
  retryAfterMs: number;
}

/**
 * Rate limits keyed by user or IP. In-process for the embedded default
 * (`local-rate-limiter.ts`); in Redis when processes must share the count.
 */
export interface RateLimiter {
  consume(key: string): Promise<RateDecision>;
  /** What a consume would decide now, without taking a token (to check before work that is charged only when it fails). */
  peek(key: string): Promise<RateDecision>;
  close(): Promise<void>;
}

/**
 * The retry hint of a refusal whose wait is known: no sooner than the wait, spread over a quarter
 * of it (at least 250 ms) so the clients a limit refused together do not return together.
 */
export function waitHint(retryAfterMs: number): { afterMs: number; windowMs: number } {
  const afterMs = Math.max(0, Math.ceil(retryAfterMs));
  return { afterMs, windowMs: Math.max(250, Math.ceil(afterMs / 4)) };
}
