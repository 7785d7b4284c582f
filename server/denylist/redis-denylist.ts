import type { Redis } from "ioredis";
import type { Denylist } from "./denylist.ts";

/** Revoked tokens in Redis (`<prefix>deny:<jti>`, expiring with the token): every process sees them. */
export class RedisDenylist implements Denylist {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async add(jti: string, expiresAtMs: number): Promise<void> {
    const ttl = Math.ceil(expiresAtMs - Date.now());
    if (ttl <= 0) return; // already expired: verification refuses it anyway
    await this.redis.set(`${this.prefix}deny:${jti}`, "1", "PX", ttl);
  }

  async has(jti: string): Promise<boolean> {
    return (await this.redis.exists(`${this.prefix}deny:${jti}`)) === 1;
  }

  async close(): Promise<void> {}
}
