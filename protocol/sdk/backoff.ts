import type { RetryHint } from "../errors.ts";

/**
 * How long the SDK waits before trying again. Pure functions of the attempt number and a random
 * draw in [0, 1), so the policy can be checked without waiting; the callers pass Math.random.
 *
 * Without a word from the server the wait is "full jitter" (AWS): uniform in [0, the exponential
 * bound]. Clients that failed together (a school's Wi-Fi, a server restart) then come back spread
 * over the whole interval instead of in clumps around the same instant. When the server said when
 * to come back (a retry hint on a refusal or on `session:closing`), that is followed instead.
 */

/** An exponential bound `baseMs · 2^attempt`, capped at `maxMs`; the wait is drawn uniformly below it. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** Between attempts of a request that is safe to repeat (a send with its clientId). */
export const REQUEST_BACKOFF: Backoff = { baseMs: 50, maxMs: 2000 };
/**
 * Before reconnecting after a transport failure, a server close without a hint, or a retryable
 * handshake refusal without a hint: the first reconnect of a crowd is spread over one second,
 * later ones wider, never more than 5 s apart (after an outage a user is back within 5 s of the
 * server; a crowd kept waiting that long is what admission control and HAProxy's pacing are for).
 */
export const RECONNECT_BACKOFF: Backoff = { baseMs: 1000, maxMs: 5000 };
/** Between attempts to resume rooms after a reconnect, when a room or the whole request was refused retryably. */
export const REJOIN_BACKOFF: Backoff = { baseMs: 200, maxMs: 5000 };

/** The wait before attempt `attempt + 1` (attempt 0 is the first retry): uniform in [0, min(maxMs, baseMs · 2^attempt)]. */
export function fullJitter(policy: Backoff, attempt: number, random: number): number {
  return random * Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
}

/** The wait the server asked for: never sooner than `afterMs` (a sooner try is refused), spread over `windowMs` after it. */
export function fromHint(hint: RetryHint, random: number): number {
  return hint.afterMs + random * hint.windowMs;
}

/** A wait the server may have given (untrusted input). */
export interface HintSource {
  retryAfterMs?: unknown;
  retryWindowMs?: unknown;
}

const isDelay = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && value >= 0;

/**
 * The retry hint of a wire error or `session:closing` notice, or undefined when it carries none
 * (or nothing usable). A `retryAfterMs` without `retryWindowMs` is spread over `windowMsIfNone`.
 */
export function hintOf(source: HintSource | undefined, windowMsIfNone = 0): RetryHint | undefined {
  if (!source || !isDelay(source.retryAfterMs)) return undefined;
  return { afterMs: source.retryAfterMs, windowMs: isDelay(source.retryWindowMs) ? source.retryWindowMs : windowMsIfNone };
}

/** The server's hint when it gave one, else full jitter by attempt. */
export function retryDelay(hint: RetryHint | undefined, policy: Backoff, attempt: number, random: number): number {
  return hint ? fromHint(hint, random) : fullJitter(policy, attempt, random);
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
