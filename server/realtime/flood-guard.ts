import type { RetryHint, WireError } from "../../protocol/errors.ts";
import { CoachwireError } from "../../protocol/errors.ts";

/** What the flood guard needs from the configuration. */
export interface FloodGuardOptions {
  /** How long a connection may stay over its budget before it is closed. */
  graceMs: number;
  /** How long a closed flooder is told to stay away (and refused at the handshake meanwhile). */
  backoffMs: number;
}

/** One connection's record: the current one-second window and since when it has been over budget. */
interface Meter {
  windowStart: number;
  served: number;
  refused: number;
  overSince: number | undefined;
  /** Until then, requests are refused here without asking the limiter (which said so). */
  refusedUntil: number;
}

const WINDOW_MS = 1000;

/**
 * Keeps floods cheap and short. Once the per-user limiter refuses a connection's request, the
 * connection's next requests until the limiter's retry time are refused right here: no limiter
 * call (no Redis round trip), no schema check, one prebuilt error. A second in which a connection
 * had more requests refused than served counts as "over budget"; a connection over budget for
 * `graceMs` in a row is to be closed with a reconnect-class reason and `backoffMs`, and its user
 * is refused at the handshake (on this process) until the backoff has passed.
 */
export class FloodGuard {
  private readonly meters = new WeakMap<object, Meter>();
  private readonly backoffUntil = new Map<string, number>();
  private readonly sweeper = setInterval(() => this.sweep(), 60_000).unref();

  constructor(private readonly options: FloodGuardOptions) {}

  /** When the connection is inside a refusal it was already given: the ms left (answer without asking the limiter); else 0. */
  refusedFor(connection: object, now: number): number {
    const meter = this.meters.get(connection);
    return meter && now < meter.refusedUntil ? meter.refusedUntil - now : 0;
  }

  /**
   * Records a request's outcome; `retryAfterMs` > 0 means it was refused. Returns true when the
   * connection has now been over budget for the grace period and must be closed.
   */
  record(connection: object, now: number, retryAfterMs: number): boolean {
    let meter = this.meters.get(connection);
    if (!meter) this.meters.set(connection, (meter = { windowStart: now, served: 0, refused: 0, overSince: undefined, refusedUntil: 0 }));
    if (now - meter.windowStart >= WINDOW_MS) {
      const over = meter.refused > meter.served && now - meter.windowStart < 2 * WINDOW_MS;
      meter.overSince = over ? (meter.overSince ?? meter.windowStart) : undefined;
      meter.windowStart = now;
      meter.served = 0;
      meter.refused = 0;
    }
    if (retryAfterMs > 0) {
      meter.refused++;
      meter.refusedUntil = now + retryAfterMs;
    } else {
      meter.served++;
    }
    return meter.overSince !== undefined && now - meter.overSince >= this.options.graceMs;
  }

  /** The user was closed for flooding: refuse their handshakes until the backoff has passed. */
  banish(userId: string, now: number): number {
    this.backoffUntil.set(userId, now + this.options.backoffMs);
    return this.options.backoffMs;
  }

  /** 0 when the user may connect; else how long until they may. */
  backoffMs(userId: string, now: number): number {
    const until = this.backoffUntil.get(userId);
    if (until === undefined) return 0;
    if (until <= now) {
      this.backoffUntil.delete(userId);
      return 0;
    }
    return Math.ceil(until - now);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = performance.now();
    for (const [user, until] of this.backoffUntil) if (until <= now) this.backoffUntil.delete(user);
  }
}

/** The RATE_LIMITED error with its retry time. */
export function rateLimited(retryAfterMs: number): WireError {
  const afterMs = Math.ceil(retryAfterMs);
  // The bucket refills one request per `afterMs`: a small window keeps a user's retries from lining up.
  return new CoachwireError("RATE_LIMITED", `Too many requests; retry in ${afterMs} ms`, { afterMs, windowMs: Math.max(50, afterMs) }).toWire();
}

/** When a user closed for flooding may come back: after their backoff, spread over a second. */
export function backoffHint(backoffMs: number): RetryHint {
  return { afterMs: backoffMs, windowMs: 1000 };
}
