import type { RetryHint } from "../../protocol/errors.ts";

/** What admission control is sized by (COACHWIRE_ADMIT_*). */
export interface AdmissionOptions {
  /** Handshakes admitted per second, sustained (the token bucket's refill). */
  ratePerS: number;
  /** Handshakes admitted at once from a full bucket. */
  burst: number;
  /** Admitted handshakes whose first join or resume is not answered yet, at most. */
  inFlightMax: number;
  /** An admitted connection that has not joined anything by then no longer counts as in flight. */
  settleMs: number;
}

/** The verdict on one handshake: admitted (with what to call once it is served), or when to come back. */
export type Admitted = { admitted: true; release: () => void } | { admitted: false; cause: "rate" | "in flight"; retry: RetryHint };

/** Refused clients still expected back fade from the estimate with this time constant. */
const WAITING_DECAY_MS = 2000;
const MIN_WINDOW_MS = 250;
const MAX_WINDOW_MS = 30_000;

/**
 * Admission control for one server process. In a reconnect storm (a drain, a network blip, a
 * balancer restart) every client comes back at once; serving them all together makes each wait
 * for all the others, handshakes time out and are retried, and the process spends itself on work
 * it then throws away. Instead it admits handshakes at the rate it can serve — a token bucket,
 * and a cap on admitted handshakes whose first join or resume is still being answered — and
 * refuses the rest before any token check, with a retry hint: come back no sooner than the
 * bucket has a token, spread over a window long enough for the clients refused lately to be
 * served at the bucket's rate. A resumed user is then served at full speed instead of everyone
 * waiting together.
 */
export class Admission {
  private tokens: number;
  private at = performance.now();
  private inFlight = 0;
  /** Refused clients expected back (decays over time: they returned or gave up). */
  private waiting = 0;
  private waitingAt = performance.now();

  constructor(private readonly options: AdmissionOptions) {
    this.tokens = options.burst;
  }

  /** Admits one handshake now, or refuses it with a hint. */
  admit(now = performance.now()): Admitted {
    this.refill(now);
    if (this.tokens < 1) return this.refuse("rate", now, ((1 - this.tokens) / this.options.ratePerS) * 1000);
    if (this.inFlight >= this.options.inFlightMax) return this.refuse("in flight", now, 0);
    this.tokens -= 1;
    this.inFlight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      this.inFlight--;
    };
    const timer = setTimeout(release, this.options.settleMs);
    timer.unref?.();
    return { admitted: true, release };
  }

  /** The bucket's tokens and the handshakes in flight, for /metrics. */
  state(now = performance.now()): { tokens: number; inFlight: number } {
    this.refill(now);
    return { tokens: Math.floor(this.tokens), inFlight: this.inFlight };
  }

  private refuse(cause: "rate" | "in flight", now: number, afterMs: number): Admitted {
    this.waiting = this.waiting * Math.exp(-(now - this.waitingAt) / WAITING_DECAY_MS) + 1;
    this.waitingAt = now;
    const windowMs = Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, (this.waiting / this.options.ratePerS) * 1000));
    return { admitted: false, cause, retry: { afterMs: Math.ceil(afterMs), windowMs: Math.ceil(windowMs) } };
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.at) / 1000) * this.options.ratePerS);
    this.at = now;
  }
}
