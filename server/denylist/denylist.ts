/**
 * Revoked access tokens and token families, each kept until the last token it covers would
 * have expired anyway. Keys are opaque to the store; {@link tokenKey} and {@link familyKey}
 * make them. Without Redis the entries live in the database (`database-denylist.ts`), so a
 * restart does not forget a logout; with Redis (`redis-denylist.ts`) every process shares them.
 */
export interface Denylist {
  /** Marks `key` revoked until `expiresAtMs` (a later call may extend it, never shorten it). */
  add(key: string, expiresAtMs: number): Promise<void>;
  /** True when any of `keys` is revoked now. */
  hasAny(keys: readonly string[]): Promise<boolean>;
  close(): Promise<void>;
}

/** The denylist key of one access token. */
export const tokenKey = (jti: string) => `token:${jti}`;
/** The denylist key of every access token of one refresh-token family. */
export const familyKey = (familyId: string) => `family:${familyId}`;
