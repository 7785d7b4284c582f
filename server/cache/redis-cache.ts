import type { Redis } from "ioredis";
import type { Cache } from "./cache.ts";

/** The cache in Redis (`<prefix>cache:<key>`, with PX expiry): one copy for every process. Errors read as misses. */
export class RedisCache implements Cache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  async get<T>(key: string): Promise<T | undefined> {
    try {
      const json = await this.redis.get(`${this.prefix}cache:${key}`);
      return json === null ? undefined : (JSON.parse(json) as T);
    } catch (err) {
      this.onError(err);
      return undefined;
    }
  }

  /** A value JSON cannot hold (undefined, a function, a BigInt) or a ttl that is not a positive number stores nothing. */
  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    try {
      const json = JSON.stringify(value);
      if (json === undefined || !(ttlMs >= 1) || !Number.isFinite(ttlMs)) {
        await this.delete(key);
        return;
      }
      await this.redis.set(`${this.prefix}cache:${key}`, json, "PX", Math.round(ttlMs));
    } catch (err) {
      this.onError(err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.redis.del(`${this.prefix}cache:${key}`);
    } catch (err) {
      this.onError(err);
    }
  }

  async close(): Promise<void> {}
}
