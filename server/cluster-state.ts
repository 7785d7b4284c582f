import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Db } from "../db/db.ts";
import type { Cache } from "./cache/cache.ts";
import { LocalCache } from "./cache/local-cache.ts";
import { RedisCache } from "./cache/redis-cache.ts";
import type { Config } from "./config.ts";
import type { Denylist } from "./denylist/denylist.ts";
import { createFanout, type Fanout } from "./fanout/fanout.ts";
import { DatabaseDenylist } from "./denylist/database-denylist.ts";
import { RedisDenylist } from "./denylist/redis-denylist.ts";
import { DatabaseSessionCutoffs } from "./denylist/database-session-cutoffs.ts";
import { RedisSessionCutoffs } from "./denylist/redis-session-cutoffs.ts";
import type { SessionCutoffs } from "./denylist/session-cutoffs.ts";
import type { Metrics } from "./metrics/metrics.ts";
import { LocalPresence } from "./presence/local-presence.ts";
import type { Presence } from "./presence/presence.ts";
import { RedisPresence } from "./presence/redis-presence.ts";
import { LocalRateLimiter } from "./ratelimit/local-rate-limiter.ts";
import type { RateLimiter, RateLimitRule } from "./ratelimit/rate-limiter.ts";
import { RedisRateLimiter } from "./ratelimit/redis-rate-limiter.ts";
import { connectRedis } from "./redis/redis-connection.ts";

/**
 * The state a process shares with its siblings: token denylist, rate limits, presence, and
 * the fan-out. Without REDIS_URL each is the in-process implementation (the embedded default)
 * except the denylist, which is kept in the database so that a restart does not forget a
 * logout; with REDIS_URL each lives in Redis and broadcasts cross processes through the fan-out
 * COACHWIRE_REDIS_ADAPTER picks (server/fanout/fanout.ts, which job workers build too).
 */
export interface ClusterState {
  readonly shared: boolean;
  denylist: Denylist;
  /** Per-user "tokens signed before T are void" marks (deactivation, password change). */
  cutoffs: SessionCutoffs;
  loginLimiter: RateLimiter;
  eventLimiter: RateLimiter;
  httpLimiter: RateLimiter;
  /** Failed logins per (account, IP), and per account from unknown sources (see login-guard.ts). */
  loginAccountIpLimiter: RateLimiter;
  loginAccountLimiter: RateLimiter;
  /** Creations per user and kind (see creation-quota.ts). */
  createLimiter: RateLimiter;
  presence: Presence;
  cache: Cache;
  /** How broadcasts reach every server process: attach it to the Socket.IO server, then broadcast through its publisher. */
  fanout: Fanout;
  /** Called after the Redis subscriber comes back from an outage (broadcasts may have been lost). */
  onSubscriberRecovered(listener: () => void): void;
  close(): Promise<void>;
}

type RuleName = "login" | "event" | "http" | "loginAccountIp" | "loginAccount" | "create";

function rules(config: Config): Record<RuleName, RateLimitRule> {
  const { loginPerMin, sendBurst, sendPerS, httpPerMin, loginAccountIpAttempts, loginAccountAttempts, loginAccountWindowS, createQuota, createQuotaWindowS } =
    config.limits;
  return {
    login: { capacity: loginPerMin, refillPerSec: loginPerMin / 60 },
    event: { capacity: sendBurst, refillPerSec: sendPerS },
    http: { capacity: httpPerMin, refillPerSec: httpPerMin / 60 },
    loginAccountIp: { capacity: loginAccountIpAttempts, refillPerSec: loginAccountIpAttempts / loginAccountWindowS },
    loginAccount: { capacity: loginAccountAttempts, refillPerSec: loginAccountAttempts / loginAccountWindowS },
    create: { capacity: createQuota, refillPerSec: createQuota / createQuotaWindowS },
  };
}

export function createClusterState(config: Config, db: Db, logger: Logger, metrics: Metrics | undefined): ClusterState {
  const rule = rules(config);
  if (!config.redis.url) {
    return {
      shared: false,
      denylist: new DatabaseDenylist(db),
      cutoffs: new DatabaseSessionCutoffs(db),
      loginLimiter: new LocalRateLimiter(rule.login),
      eventLimiter: new LocalRateLimiter(rule.event),
      httpLimiter: new LocalRateLimiter(rule.http),
      loginAccountIpLimiter: new LocalRateLimiter(rule.loginAccountIp),
      loginAccountLimiter: new LocalRateLimiter(rule.loginAccount),
      createLimiter: new LocalRateLimiter(rule.create),
      presence: new LocalPresence(config.presence.ttlMs),
      cache: new LocalCache(),
      fanout: createFanout(config.redis, undefined),
      onSubscriberRecovered() {},
      async close() {},
    };
  }

  const { url, prefix } = config.redis;
  const onError = (role: string) => metrics?.redisErrors.inc({ role });
  const commands = connectRedis(url, "commands", logger, onError);
  const pub = connectRedis(url, "publisher", logger, onError);
  const sub = connectRedis(url, "subscriber", logger, onError);
  const limiter = (name: string, r: RateLimitRule) =>
    new RedisRateLimiter(commands, `${prefix}rl:${name}:`, r, () => onError("commands"));

  const recoveredListeners: Array<() => void> = [];
  let lostSubscriber = false;
  sub.on("close", () => (lostSubscriber = true));
  sub.on("ready", () => {
    if (!lostSubscriber) return;
    lostSubscriber = false;
    // Give the publisher a moment to flush what it queued while Redis was away.
    setTimeout(() => recoveredListeners.forEach((l) => l()), 500).unref();
  });

  return {
    shared: true,
    denylist: new RedisDenylist(commands, prefix),
    cutoffs: new RedisSessionCutoffs(commands, prefix),
    loginLimiter: limiter("login", rule.login),
    eventLimiter: limiter("event", rule.event),
    httpLimiter: limiter("http", rule.http),
    loginAccountIpLimiter: limiter("login-account-ip", rule.loginAccountIp),
    loginAccountLimiter: limiter("login-account", rule.loginAccount),
    createLimiter: limiter("create", rule.create),
    presence: new RedisPresence(commands, prefix, config.presence.ttlMs),
    cache: new RedisCache(commands, prefix, () => onError("commands")),
    fanout: createFanout(config.redis, { pub, sub }, () => onError("publisher")),
    onSubscriberRecovered(listener) {
      recoveredListeners.push(listener);
    },
    async close() {
      await Promise.all([commands, pub, sub].map((c: Redis) => c.quit().catch(() => c.disconnect())));
    },
  };
}
