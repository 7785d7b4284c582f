import type { Cache } from "./cache.ts";

/** The in-process cache: entries expire on read. Values are stored as JSON, so callers get copies. */
export class LocalCache implements Cache {
  private readonly entries = new Map<string, { json: string; expiresAt: number }>();

  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return JSON.parse(entry.json) as T;
  }

  /** A value JSON cannot hold (undefined, a function, a BigInt) or a ttl that is not a positive number stores nothing. */
  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {
      json = undefined;
    }
    if (json === undefined || !(ttlMs > 0) || !Number.isFinite(ttlMs)) {
      this.entries.delete(key);
      return;
    }
    this.entries.set(key, { json, expiresAt: Date.now() + ttlMs });
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
