import type { Redis } from "ioredis";
import type { Denylist } from "./denylist.ts";

/** Revoked tokens and families in Redis (`<prefix>deny:<key>`, expiring with what they cover): every process sees them. */
export class RedisDenylist implements Denylist {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async add(key: string, expiresAtMs: number): Promise<void> {
    const ttl = Math.ceil(expiresAtMs - Date.now());
    if (ttl <= 0) return; // already expired: verification refuses it anyway
    // GT: a second revocation may extend an entry, never shorten it (Redis ≥ 7); NX covers a new key.
    await this.redis.multi().set(`${this.prefix}deny:${key}`, "1", "PX", ttl, "NX").pexpire(`${this.prefix}deny:${key}`, ttl, "GT").exec();
  }

  async hasAny(keys: readonly string[]): Promise<boolean> {
    if (keys.length === 0) return false;
    return (await this.redis.exists(...keys.map((k) => `${this.prefix}deny:${k}`))) > 0;
  }

  async close(): Promise<void> {}
}
