import type { RateDecision, RateLimiter, RateLimitRule } from "./rate-limiter.ts";
import { msUntilToken, refill, type Bucket } from "./token-bucket.ts";

/** Token buckets in a Map; full buckets are swept so the Map only holds recent callers. */
export class LocalRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly sweeper = setInterval(() => this.sweep(performance.now()), 30_000).unref();

  constructor(private readonly rule: RateLimitRule) {}

  async consume(key: string): Promise<RateDecision> {
    return this.decide(key, 1);
  }

  async peek(key: string): Promise<RateDecision> {
    return this.decide(key, 0);
  }

  private decide(key: string, cost: 0 | 1): RateDecision {
    const now = performance.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.rule.capacity, at: now };
    refill(bucket, this.rule.capacity, this.rule.refillPerSec, now);
    if (cost > 0) this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= cost;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil(msUntilToken(bucket, this.rule.refillPerSec)) };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      refill(b, this.rule.capacity, this.rule.refillPerSec, now);
      if (b.tokens >= this.rule.capacity) this.buckets.delete(key);
    }
  }
}
