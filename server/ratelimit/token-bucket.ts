/** A token bucket's level, as of `at` (performance.now() time). */
export interface Bucket {
  tokens: number;
  at: number;
}

/** Brings the bucket up to `now`: refilled at `perSec` tokens a second, never above `capacity`. */
export function refill(bucket: Bucket, capacity: number, perSec: number, now: number): void {
  bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * perSec);
  bucket.at = now;
}

/** How long until the bucket holds a whole token again, in ms (0 when it does). */
export function msUntilToken(bucket: Bucket, perSec: number): number {
  return bucket.tokens >= 1 ? 0 : ((1 - bucket.tokens) / perSec) * 1000;
}
