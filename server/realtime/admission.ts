import type { RetryHint } from "../../protocol/errors.ts";
import { msUntilToken, refill, type Bucket } from "../ratelimit/token-bucket.ts";

/** What admission control is sized by (COACHWIRE_ADMIT_*). */
export interface AdmissionOptions {
  /** Handshakes admitted per second, sustained (the token bucket's refill). */
  ratePerS: number;
  /** Handshakes admitted at once from a full bucket. */
  burst: number;
  /** Admitted handshakes whose first join or resume is not answered yet, at most. */
  inFlightMax: number;
  /** A handshake may wait this long in line for its turn; one that would wait longer is refused. */
  queueMs: number;
  /** An admitted connection that has not joined anything by then no longer counts as in flight. */
  settleMs: number;
}

/** The verdict on one handshake: admitted (with what to call once it is served), or when to come back. */
export type Admitted = { admitted: true; release: () => void } | { admitted: false; cause: "rate" | "in-flight"; retry: RetryHint };

interface Waiter {
  resolve(verdict: Admitted): void;
  /** Still worth admitting (its connection is open). */
  alive(): boolean;
}

const MIN_WINDOW_MS = 250;
/** No refused client is told to wait longer than this (a later turn would outlast the storm). */
const MAX_AFTER_MS = 30_000;

/**
 * Admission control for one server process. In a reconnect storm (a drain, a network blip, a
 * balancer restart) every client comes back at once; serving them all together makes each wait
 * for all the others, handshakes time out and are retried, and the process spends itself on work
 * it then throws away. Instead it admits handshakes at the rate it can serve: a token bucket
 * (COACHWIRE_ADMIT_RATE_PER_S: size it to what one process serves, `npm run bench -- --scenario
 * storm` shows it), and a cap on admitted handshakes whose first join or resume is still being
 * answered. A handshake beyond them waits its turn in line — an open connection costs nothing
 * while it waits, whereas a refused one costs a whole new connection when it comes back — and
 * one that would wait longer than `queueMs` is refused before any token check, with a retry
 * hint that gives it a turn after everyone in line and everyone refused before it, one bucket
 * interval apart. A resumed user is then served at full speed instead of everyone waiting
 * together. HAProxy's `rate-limit sessions` (haproxy.cfg) paces new connections the same way in
 * front, so that most of the line waits in the balancer's accept queue, costing nobody anything.
 */
export class Admission {
  private readonly bucket: Bucket;
  private inFlight = 0;
  private readonly line: Waiter[] = [];
  private lineTimer: NodeJS.Timeout | undefined;
  /** When the next refused client is told to come back (performance.now() time). */
  private nextTurn = 0;

  constructor(private readonly options: AdmissionOptions) {
    this.bucket = { tokens: options.burst, at: performance.now() };
  }

  /**
   * Admits one handshake now, or after its turn in line, or refuses it with a hint. `alive`
   * says whether the connection is still open (one that closed while in line gives its turn up).
   */
  admit(alive: () => boolean = () => true, now = performance.now()): Admitted | Promise<Admitted> {
    this.refill(now);
    if (this.line.length === 0 && this.bucket.tokens >= 1 && this.inFlight < this.options.inFlightMax) return this.take();
    const cause = this.bucket.tokens < 1 ? "rate" : "in-flight";
    // No line at all, a line longer than the bucket admits in `queueMs`, or a wait past it: refused.
    const longest = (this.options.ratePerS * this.options.queueMs) / 1000;
    if (this.options.queueMs === 0 || this.line.length + 1 > longest || this.expectedWaitMs(this.line.length + 1) > this.options.queueMs) {
      return this.refuse(cause, now, msUntilToken(this.bucket, this.options.ratePerS));
    }
    return new Promise((resolve) => {
      this.line.push({ resolve, alive });
      this.scheduleLine();
    });
  }

  /** The bucket's tokens, the handshakes in flight and in line, for /metrics. */
  state(now = performance.now()): { tokens: number; inFlight: number; queued: number } {
    this.refill(now);
    return { tokens: Math.floor(this.bucket.tokens), inFlight: this.inFlight, queued: this.line.length };
  }

  private take(): Admitted {
    this.bucket.tokens -= 1;
    this.inFlight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      this.inFlight--;
      this.scheduleLine();
    };
    const timer = setTimeout(release, this.options.settleMs);
    timer.unref?.();
    return { admitted: true, release };
  }

  /** Lets the line move as far as tokens and slots allow; waits for the next token otherwise. */
  private scheduleLine(): void {
    if (this.lineTimer !== undefined || this.line.length === 0) return;
    this.lineTimer = setTimeout(() => {
      this.lineTimer = undefined;
      this.refill(performance.now());
      while (this.line.length > 0 && this.bucket.tokens >= 1 && this.inFlight < this.options.inFlightMax) {
        const next = this.line.shift()!;
        // A connection that closed while in line gives its turn up (its handshake is over anyway).
        if (next.alive()) next.resolve(this.take());
        else next.resolve({ admitted: false, cause: "in-flight", retry: { afterMs: 0, windowMs: MIN_WINDOW_MS } });
      }
      // Out of tokens: try again when the next one is due; out of slots: a release reschedules.
      if (this.line.length > 0 && this.bucket.tokens < 1) this.scheduleLineIn(msUntilToken(this.bucket, this.options.ratePerS));
    }, 0);
  }

  private scheduleLineIn(ms: number): void {
    this.lineTimer = setTimeout(() => {
      this.lineTimer = undefined;
      this.scheduleLine();
    }, Math.max(1, Math.ceil(ms)));
  }

  /** How long the `position`-th in line would wait for its token (slots free up far faster than tokens when the bucket is sized right). */
  private expectedWaitMs(position: number): number {
    return (Math.max(0, position - this.bucket.tokens) / this.options.ratePerS) * 1000;
  }

  /**
   * The hint gives each refused client a turn of its own: the refused are lined up (virtually)
   * one bucket interval apart after the real line, and each is told to come back at its turn,
   * give or take a small window — so they return at the rate the bucket admits, not all at once.
   */
  private refuse(cause: "rate" | "in-flight", now: number, afterMs: number): Admitted {
    const spacing = 1000 / this.options.ratePerS;
    const lineClears = now + Math.max(afterMs, this.expectedWaitMs(this.line.length));
    this.nextTurn = Math.min(now + MAX_AFTER_MS, Math.max(this.nextTurn, lineClears) + spacing);
    const windowMs = Math.max(MIN_WINDOW_MS, spacing);
    return { admitted: false, cause, retry: { afterMs: Math.ceil(Math.max(0, this.nextTurn - now - windowMs / 2)), windowMs: Math.ceil(windowMs) } };
  }

  private refill(now: number): void {
    refill(this.bucket, this.options.burst, this.options.ratePerS, now);
  }
}
