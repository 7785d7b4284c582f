import type { Redis } from "ioredis";
import type { SessionCutoffs } from "./session-cutoffs.ts";

// Keeps the larger cutoff and the longer expiry, atomically (two processes may cut at once).
const CUT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(current, tonumber(ARGV[1]))
local ttl = tonumber(ARGV[2])
local left = redis.call('PTTL', KEYS[1])
if left > ttl then ttl = left end
redis.call('SET', KEYS[1], at, 'PX', ttl)
return at`;

/** Per-user cutoffs in Redis (`<prefix>cut:<userId>`, expiring with the last token they void): every process sees them. */
export class RedisSessionCutoffs implements SessionCutoffs {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async cut(userId: string, atMs: number, keepUntilMs: number): Promise<void> {
    const ttl = Math.ceil(keepUntilMs - Date.now());
    if (ttl <= 0) return;
    await this.redis.eval(CUT, 1, `${this.prefix}cut:${userId}`, String(atMs), String(ttl));
  }

  async cutoff(userId: string): Promise<number> {
    return Number((await this.redis.get(`${this.prefix}cut:${userId}`)) ?? 0);
  }

  async close(): Promise<void> {}
}
