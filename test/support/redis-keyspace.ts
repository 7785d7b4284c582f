import { randomBytes } from "node:crypto";
import { after, afterEach, before, beforeEach } from "node:test";
import { Redis } from "ioredis";
import { REQUIRE_SERVICES } from "./databases.ts";
import { deleteKeys } from "../../server/redis/delete-keys.ts";

/**
 * The Redis a suite runs against: used when it answers, and (with TEST_REQUIRE_SERVICES=1, as
 * .ci/run sets) a hard failure when it does not — the same rule as PostgreSQL in databases.ts.
 * Every test works under its own fresh key prefix, whose keys are deleted after it.
 */

export const REDIS_URL = process.env["TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379";

let available: Promise<boolean> | undefined;

/** True when Redis answers; throws instead when services are required and it does not. */
export function redisAvailable(): Promise<boolean> {
  available ??= (async () => {
    const probe = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {}); // the failure is reported below, not as an unhandled event
    try {
      await probe.connect();
      await probe.ping();
      return true;
    } catch (err) {
      if (REQUIRE_SERVICES) throw new Error(`Redis is required (TEST_REQUIRE_SERVICES=1) but ${REDIS_URL} failed: ${err}`);
      return false;
    } finally {
      probe.disconnect();
    }
  })();
  return available;
}

/** `test:<pid>:<random>:` — a key prefix no other test (or test process) uses. */
export const freshPrefix = (): string => `test:${process.pid}:${randomBytes(5).toString("hex")}:`;

export { deleteKeys };

/** What `redisKeyspace` gives a suite: its connections, and the current test's prefix. */
export interface RedisKeyspace {
  /** The suite's first connection. */
  readonly redis: Redis;
  /** All of the suite's connections (several stand for several processes). */
  readonly connections: readonly Redis[];
  /** The running test's own key prefix. */
  readonly prefix: string;
}

/**
 * Call inside a `describe`: opens `connections` connections to the test Redis for the suite
 * (closed in `after`), gives each test a fresh prefix and deletes its keys after the test.
 */
export function redisKeyspace(connections = 1): RedisKeyspace {
  let opened: Redis[] = [];
  let prefix: string | undefined;

  before(async () => {
    opened = Array.from({ length: connections }, () => new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 }));
    await Promise.all(opened.map((r) => r.connect()));
  });
  beforeEach(() => {
    prefix = freshPrefix();
  });
  afterEach(async () => {
    if (prefix !== undefined && opened[0]) await deleteKeys(opened[0], prefix);
    prefix = undefined;
  });
  after(async () => {
    await Promise.all(opened.map((r) => r.quit()));
  });

  return {
    get redis() {
      const first = opened[0];
      if (!first) throw new Error("the suite's Redis connections open in before()");
      return first;
    },
    get connections() {
      return opened;
    },
    get prefix() {
      if (prefix === undefined) throw new Error("a prefix exists only while a test runs");
      return prefix;
    },
  };
}
