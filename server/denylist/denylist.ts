/**
 * Revoked access tokens, by their `jti`, kept until the token would have expired anyway.
 * The embedded default keeps them in memory (`local-denylist.ts`); with Redis they are shared
 * by every process.
 */
export interface Denylist {
  /** Marks a token revoked until `expiresAtMs`. */
  add(jti: string, expiresAtMs: number): Promise<void>;
  has(jti: string): Promise<boolean>;
  close(): Promise<void>;
}
