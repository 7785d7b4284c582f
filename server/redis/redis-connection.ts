import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";

/** Which job a connection does; a subscriber connection can run nothing but (un)subscribe. */
export type RedisRole = "commands" | "publisher" | "subscriber";

/**
 * Opens one ioredis connection. ioredis reconnects by itself (with backoff) after Redis
 * restarts; `commandTimeout` keeps a request path from hanging while it does. Errors are
 * reported through `onError` (for logs and metrics) and never thrown from a timer.
 */
export function connectRedis(url: string, role: RedisRole, logger: Logger, onError: (role: RedisRole) => void): Redis {
  const options: RedisOptions = {
    connectionName: `coachwire-${role}-${process.pid}`,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
    // Commands issued in the same tick go out in one write (a storm's thousands of presence and
    // denylist calls, a burst of broadcasts): one syscall and one Redis read instead of one each.
    ...(role !== "subscriber" ? { enableAutoPipelining: true } : {}),
    // 5 s, not less: the timer runs on the same event loop as the reply, and a process busy with a
    // reconnect storm can lag a second or two — a shorter timeout then fails commands Redis had
    // already answered, and every failed token check sends a client round again.
    ...(role === "commands" ? { commandTimeout: 5000, maxRetriesPerRequest: 2 } : {}),
    ...(role === "subscriber" ? { maxRetriesPerRequest: null } : {}),
  };
  const redis = new Redis(url, options);
  let lastLogged = 0;
  redis.on("error", (err: Error) => {
    onError(role);
    // One line a second is enough while Redis is away.
    if (Date.now() - lastLogged > 1000) {
      lastLogged = Date.now();
      logger.warn({ err: err.message, role }, "redis connection error");
    }
  });
  redis.on("ready", () => logger.info({ role }, "redis ready"));
  return redis;
}
