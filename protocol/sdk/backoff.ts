/**
 * How long the SDK waits before trying again. Pure functions of the attempt number and a random
 * draw in [0, 1), so the policy can be checked without waiting; the callers pass Math.random.
 */

/** An exponential backoff: `baseMs · 2^attempt`, capped at `maxMs`, then scaled by 0.5–1.5 (jitter). */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** Between attempts of a request that is safe to repeat (a send with its clientId). */
export const REQUEST_BACKOFF: Backoff = { baseMs: 50, maxMs: 2000 };
/** Between attempts to join a room again after a reconnect. */
export const REJOIN_BACKOFF: Backoff = { baseMs: 200, maxMs: 5000 };
/** The pause before reconnecting after a retryable handshake refusal (draining, rate limited, unavailable). */
export const HANDSHAKE_RETRY_MS = 250;

/** The delay before attempt `attempt + 1`, given a random draw in [0, 1). */
export function backoffDelay(policy: Backoff, attempt: number, random: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** attempt) * (0.5 + random);
}

/**
 * The delay before reconnecting when the server said how long to stay away (`retryAfterMs` of
 * `session:closing`, docs/api.md): never sooner than the hint — a sooner handshake is refused —
 * plus up to `jitterMs` so the closed clients do not all come back in the same instant.
 */
export function afterHint(retryAfterMs: number, jitterMs: number, random: number): number {
  return retryAfterMs + random * jitterMs;
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
