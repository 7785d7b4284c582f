import type { Redis } from "ioredis";

/**
 * Deletes every key of a deployment prefix — those under `prefix`, and BullMQ's, which sit under
 * `{prefix…}` (a Redis Cluster hash tag) — with SCAN MATCH then DEL; resolves with how many there were.
 */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  const escaped = prefix.replace(/[\\*?[\]{}]/g, "\\$&");
  let deleted = 0;
  for (const pattern of [`${escaped}*`, `\\{${escaped}*`]) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== "0");
  }
  return deleted;
}
