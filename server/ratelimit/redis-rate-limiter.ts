import type { Redis } from "ioredis";
import type { RateDecision, RateLimiter, RateLimitRule } from "./rate-limiter.ts";

// The same token bucket as the local limiter, run atomically inside Redis on Redis's clock.
const TOKEN_BUCKET = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3]) or 1
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or capacity
local at = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + (now - at) / 1000 * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate * 1000)
end
if cost > 0 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
end
return {allowed, retry}
`;

type WithTokenBucket = Redis & {
  coachwireTokenBucket2(key: string, capacity: number, refillPerSec: number, cost: 0 | 1): Promise<[number, number]>;
};

/**
 * Token buckets shared by every process, under `<prefix>rl:<name>:<key>`. If Redis cannot
 * answer, the request is let through.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: WithTokenBucket;

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    private readonly rule: RateLimitRule,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    // defineCommand sends EVALSHA, falling back to EVAL once per connection.
    // The command name carries a version: a connection may have the older one-argument script defined.
    if (!("coachwireTokenBucket2" in redis)) redis.defineCommand("coachwireTokenBucket2", { numberOfKeys: 1, lua: TOKEN_BUCKET });
    this.redis = redis as WithTokenBucket;
  }

  async consume(key: string): Promise<RateDecision> {
    return this.decide(key, 1);
  }

  async peek(key: string): Promise<RateDecision> {
    return this.decide(key, 0);
  }

  private async decide(key: string, cost: 0 | 1): Promise<RateDecision> {
    try {
      const [allowed, retry] = await this.redis.coachwireTokenBucket2(`${this.keyPrefix}${key}`, this.rule.capacity, this.rule.refillPerSec, cost);
      return { allowed: allowed === 1, retryAfterMs: retry };
    } catch (err) {
      // Failing open: a Redis outage must not stop chat; limits resume when it is back.
      this.onError(err);
      return { allowed: true, retryAfterMs: 0 };
    }
  }

  async close(): Promise<void> {}
}
