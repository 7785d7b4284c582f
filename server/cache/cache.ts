/**
 * A small key/value cache with expiry, for read-mostly data (the subject catalog). Two
 * implementations: in-process (embedded default) and Redis (shared by every process); both pass
 * test/cache-conformance.test.ts. Values are JSON. A cache failure is a miss, never an error.
 */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
