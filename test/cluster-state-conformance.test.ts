import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { Redis } from "ioredis";
import { DatabaseDenylist } from "../server/denylist/database-denylist.ts";
import type { Denylist } from "../server/denylist/denylist.ts";
import { RedisDenylist } from "../server/denylist/redis-denylist.ts";
import { LocalPresence } from "../server/presence/local-presence.ts";
import type { Presence, PresenceEntry } from "../server/presence/presence.ts";
import { RedisPresence } from "../server/presence/redis-presence.ts";
import { LocalRateLimiter } from "../server/ratelimit/local-rate-limiter.ts";
import type { RateLimiter, RateLimitRule } from "../server/ratelimit/rate-limiter.ts";
import { RedisRateLimiter } from "../server/ratelimit/redis-rate-limiter.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { REDIS_URL, redisAvailable, redisKeyspace } from "./support/redis-keyspace.ts";

// The state a cluster shares — revoked tokens, rate limits, presence — sits behind three seams,
// each with two implementations: rate limits and presence in-process or in Redis, revoked tokens
// in the database (PGlite or PostgreSQL, when there is no Redis) or in Redis. Every implementation passes the one
// suite of its seam (STYLE.md rule 5, like Phoenix PubSub's shared test): a difference between
// "local" and "redis" is a failure here. Waits are for TTLs and refills to pass; nothing here
// asserts how long anything took.

type Variant = "local" | "redis";
const VARIANTS: readonly Variant[] = ["local", "redis"];
const redisUp = await redisAvailable();
const skipFor = (variant: Variant) => ({ skip: variant === "redis" && !redisUp && `Redis is not reachable at ${REDIS_URL}` });

/**
 * Call inside a suite: hands out fresh implementations of one variant, each on the running
 * test's own Redis prefix (redis), all closed after the test.
 */
function implementations(variant: Variant) {
  const keyspace = variant === "redis" ? redisKeyspace(2) : undefined;
  const opened: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((impl) => impl.close()));
  });
  const track = <T extends { close(): Promise<void> }>(impl: T): T => (opened.push(impl), impl);

  return {
    limiter: (rule: RateLimitRule): RateLimiter =>
      track(keyspace ? new RedisRateLimiter(keyspace.redis, `${keyspace.prefix}rl:test:`, rule) : new LocalRateLimiter(rule)),
    /**
     * Two handles on one presence state, as two processes see it: for redis, two instances on
     * two connections sharing the prefix; locally there is only one process, so one instance.
     */
    presencePair(ttlMs: number): [Presence, Presence] {
      if (!keyspace) {
        const only = track(new LocalPresence(ttlMs));
        return [only, only];
      }
      const [a, b] = keyspace.connections;
      return [track(new RedisPresence(a!, keyspace.prefix, ttlMs)), track(new RedisPresence(b!, keyspace.prefix, ttlMs))];
    },
  };
}

/** Sorted copies, so results are compared without depending on iteration order. */
const sorted = (users: string[]) => [...users].sort();
const sortedGone = (gone: Array<{ roomId: string; userId: string }>) =>
  gone.map(({ roomId, userId }) => `${roomId}/${userId}`).sort();

type DenylistVariant = "pglite" | "pg" | "redis";
const denylistVariants: DenylistVariant[] = [...(await availableDrivers()), "redis"];

for (const variant of denylistVariants) {
  describe(`Denylist conformance (${variant})`, variant === "redis" ? skipFor("redis") : {}, () => {
    // The database variants share one test database per suite; each test uses keys of its own.
    let tdb: TestDatabase | undefined;
    const keyspace = variant === "redis" ? redisKeyspace(1) : undefined;
    const opened: Denylist[] = [];
    before(async () => {
      if (variant !== "redis") tdb = await openTestDatabase(variant);
    });
    after(async () => {
      await tdb?.drop();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((d) => d.close()));
    });
    let n = 0;
    const key = (name: string) => `${name}-${n}`;
    beforeEach(() => void n++);
    const denylist = (): Denylist => {
      const made = keyspace ? new RedisDenylist(keyspace.redis, keyspace.prefix) : new DatabaseDenylist(tdb!.db);
      opened.push(made);
      return made;
    };

    test("an unknown key is not revoked; no keys at all is not revoked", async () => {
      assert.equal(await denylist().hasAny([key("never-added")]), false);
      assert.equal(await denylist().hasAny([]), false);
    });

    test("an added key is revoked, and only that one; any revoked key among several counts", async () => {
      const list = denylist();
      await list.add(key("a"), Date.now() + 60_000);
      assert.equal(await list.hasAny([key("a")]), true);
      assert.equal(await list.hasAny([key("b")]), false);
      assert.equal(await list.hasAny([key("b"), key("a")]), true);
      assert.equal(await list.hasAny([key("b"), key("c")]), false);
      await list.add(key("b"), Date.now() + 60_000);
      assert.equal(await list.hasAny([key("a")]), true);
      assert.equal(await list.hasAny([key("b")]), true);
    });

    test("an entry is forgotten once its expiry has passed; a later one is not", async () => {
      const list = denylist();
      await list.add(key("short"), Date.now() + 300);
      await list.add(key("long"), Date.now() + 60_000);
      assert.equal(await list.hasAny([key("short")]), true);
      await sleep(400);
      assert.equal(await list.hasAny([key("short")]), false);
      assert.equal(await list.hasAny([key("long")]), true);
    });

    test("adding a key again extends its entry but never shortens it", async () => {
      const list = denylist();
      await list.add(key("x"), Date.now() + 60_000);
      await list.add(key("x"), Date.now() + 300); // a shorter one later must not cut the first short
      await list.add(key("y"), Date.now() + 300);
      await list.add(key("y"), Date.now() + 60_000);
      await sleep(400);
      assert.equal(await list.hasAny([key("x")]), true);
      assert.equal(await list.hasAny([key("y")]), true);
    });

    test("an entry whose expiry is already past is never reported", async () => {
      // Revoking a token that has already expired (say, logout with a stale token) must not
      // report it as revoked: "revoked until expiresAtMs" is over before it began.
      const list = denylist();
      await list.add(key("stale"), Date.now() - 60_000);
      assert.equal(await list.hasAny([key("stale")]), false);
    });

    test("a second handle (another process, a restart) sees what the first one added", async () => {
      const first = denylist();
      await first.add(key("shared"), Date.now() + 60_000);
      await first.close();
      assert.equal(await denylist().hasAny([key("shared")]), true);
    });
  });
}

for (const variant of VARIANTS) {
  describe(`RateLimiter conformance (${variant})`, skipFor(variant), () => {
    const impl = implementations(variant);
    const rule: RateLimitRule = { capacity: 3, refillPerSec: 10 };
    // At most one token's refill time (rounded up) — the bound the rule itself gives.
    const maxRetryMs = 1000 / rule.refillPerSec + 5;

    async function drain(limiter: RateLimiter, key: string) {
      for (let n = 0; n < rule.capacity; n++) assert.equal((await limiter.consume(key)).allowed, true, `consume ${n + 1} of ${rule.capacity}`);
      return limiter.consume(key);
    }

    test("a full bucket allows `capacity` consumes, then refuses with a retryAfterMs within one token's refill", async () => {
      const refused = await drain(impl.limiter(rule), "user-1");
      assert.equal(refused.allowed, false);
      assert.ok(refused.retryAfterMs > 0, `retryAfterMs ${refused.retryAfterMs} > 0`);
      assert.ok(refused.retryAfterMs <= maxRetryMs, `retryAfterMs ${refused.retryAfterMs} <= ${maxRetryMs}`);
    });

    test("keys have their own buckets", async () => {
      const limiter = impl.limiter(rule);
      assert.equal((await drain(limiter, "user-1")).allowed, false);
      assert.equal((await drain(limiter, "user-2")).allowed, false, "user-2 had its own full bucket");
      assert.equal((await limiter.consume("user-1")).allowed, false, "user-2's consumes gave user-1 nothing");
    });

    test("after waiting retryAfterMs a refused key is allowed again", async () => {
      const limiter = impl.limiter(rule);
      const refused = await drain(limiter, "user-1");
      assert.equal(refused.allowed, false);
      await sleep(refused.retryAfterMs + 20);
      assert.equal((await limiter.consume("user-1")).allowed, true);
    });

    test("peek says what a consume would decide and takes nothing", async () => {
      const limiter = impl.limiter({ capacity: 2, refillPerSec: 0.01 });
      for (let n = 0; n < 5; n++) assert.equal((await limiter.peek("user-1")).allowed, true, `peek ${n + 1} on a full bucket`);
      assert.equal((await limiter.consume("user-1")).allowed, true);
      assert.equal((await limiter.consume("user-1")).allowed, true, "the peeks took no token");
      const peeked = await limiter.peek("user-1");
      assert.equal(peeked.allowed, false, "an empty bucket peeks refused");
      assert.ok(peeked.retryAfterMs > 0);
      assert.equal((await limiter.consume("user-1")).allowed, false);
    });

    test("a burst of 20 concurrent consumes is allowed exactly `capacity` times", async () => {
      const limiter = impl.limiter(rule);
      const decisions = await Promise.all(Array.from({ length: 20 }, () => limiter.consume("burst")));
      assert.equal(decisions.filter((d) => d.allowed).length, rule.capacity);
      for (const d of decisions.filter((d) => !d.allowed)) assert.ok(d.retryAfterMs > 0 && d.retryAfterMs <= maxRetryMs, `retryAfterMs ${d.retryAfterMs}`);
    });
  });

  describe(`Presence conformance (${variant})`, skipFor(variant), () => {
    const impl = implementations(variant);
    const TTL_MS = 400;
    const entry = (roomId: string, userId: string, connId: string): PresenceEntry => ({ roomId, userId, connId });
    const presence = () => impl.presencePair(TTL_MS)[0];

    test("a user's first connection joins, a second does not, and online lists the user once", async () => {
      const p = presence();
      assert.equal(await p.join(entry("r1", "ann", "c1")), true);
      assert.equal(await p.join(entry("r1", "ann", "c2")), false);
      assert.equal(await p.join(entry("r1", "bob", "c3")), true);
      assert.deepEqual(sorted(await p.online("r1")), ["ann", "bob"]);
    });

    test("joining again on a live connection is not a new arrival, and one leave ends it", async () => {
      const p = presence();
      assert.equal(await p.join(entry("r1", "ann", "c1")), true);
      assert.equal(await p.join(entry("r1", "ann", "c1")), false);
      assert.equal(await p.leave(entry("r1", "ann", "c1")), true);
      assert.deepEqual(await p.online("r1"), []);
    });

    test("leaving one of two connections is not a leave; leaving the last one is", async () => {
      const p = presence();
      await p.join(entry("r1", "ann", "c1"));
      await p.join(entry("r1", "ann", "c2"));
      assert.equal(await p.leave(entry("r1", "ann", "c1")), false);
      assert.deepEqual(await p.online("r1"), ["ann"]);
      assert.equal(await p.leave(entry("r1", "ann", "c2")), true);
      assert.deepEqual(await p.online("r1"), []);
    });

    test("leaving a connection that never joined announces nothing and changes nothing", async () => {
      const p = presence();
      await p.join(entry("r1", "ann", "c1"));
      assert.equal(await p.leave(entry("r1", "ann", "not-joined")), false);
      assert.equal(await p.leave(entry("r1", "bob", "c1")), false, "the connId is ann's, not bob's");
      assert.equal(await p.leave(entry("no-such-room", "ann", "c1")), false);
      assert.deepEqual(await p.online("r1"), ["ann"]);
      assert.equal(await p.leave(entry("r1", "ann", "c1")), true, "ann's real connection is still the last one");
    });

    test("rooms are independent, even for one connection in several rooms", async () => {
      const p = presence();
      assert.equal(await p.join(entry("r1", "ann", "c1")), true);
      assert.equal(await p.join(entry("r2", "ann", "c1")), true, "first in r2 as well");
      assert.equal(await p.join(entry("r2", "bob", "c2")), true);
      assert.deepEqual(await p.online("r1"), ["ann"]);
      assert.deepEqual(sorted(await p.online("r2")), ["ann", "bob"]);
      assert.equal(await p.leave(entry("r1", "ann", "c1")), true);
      assert.deepEqual(await p.online("r1"), []);
      assert.deepEqual(sorted(await p.online("r2")), ["ann", "bob"], "leaving r1 left r2 alone");
      assert.equal(await p.leave(entry("r2", "ann", "c1")), true);
      assert.deepEqual(await p.online("r3"), []);
    });

    test("heartbeats at half the TTL keep entries alive past it", async () => {
      const p = presence();
      const entries = [entry("r1", "ann", "c1"), entry("r1", "bob", "c2"), entry("r2", "ann", "c1")];
      for (const e of entries) await p.join(e);
      for (let beat = 1; beat <= 4; beat++) {
        await sleep(TTL_MS / 2);
        // Checked before each heartbeat, so an entry that had lapsed would be seen here
        // rather than quietly re-added by the heartbeat.
        assert.deepEqual(await p.sweep(), [], `nothing expired before heartbeat ${beat}`);
        assert.deepEqual(sorted(await p.online("r1")), ["ann", "bob"], `before heartbeat ${beat}`);
        await p.heartbeat(entries);
      }
      assert.deepEqual(await p.online("r2"), ["ann"]);
    });

    test("entries not heartbeated expire: online drops them and a sweep announces each gone user once per room", async () => {
      const p = presence();
      await p.join(entry("r1", "ann", "a1"));
      await p.join(entry("r2", "ann", "a2"));
      await p.join(entry("r1", "cid", "c1"));
      await p.join(entry("r1", "cid", "c2"));
      await p.join(entry("r1", "bob", "b1"));
      await p.join(entry("r1", "bob", "b2"));
      await sleep(TTL_MS / 2 + 50);
      await p.heartbeat([entry("r1", "bob", "b2")]); // bob keeps one live connection
      await sleep(TTL_MS / 2 + 50);
      assert.deepEqual(await p.online("r1"), ["bob"]);
      assert.deepEqual(await p.online("r2"), []);
      assert.deepEqual(sortedGone(await p.sweep()), ["r1/ann", "r1/cid", "r2/ann"], "cid once though two entries expired; bob not at all");
      assert.deepEqual(await p.sweep(), [], "a second sweep finds nothing more");
      assert.deepEqual(await p.online("r1"), ["bob"]);
      assert.equal(await p.leave(entry("r1", "bob", "b1")), false, "bob's expired connection was swept");
      assert.equal(await p.leave(entry("r1", "bob", "b2")), true);
    });

    test("two sweeps racing announce each gone user exactly once in total", async () => {
      const [first, second] = impl.presencePair(TTL_MS);
      const users = ["u1", "u2", "u3", "u4", "u5", "u6"];
      for (const [i, user] of users.entries()) {
        await first.join(entry("r1", user, `${user}-a`));
        await second.join(entry(i % 2 ? "r1" : "r2", user, `${user}-b`));
      }
      await sleep(TTL_MS + 100);
      const [a, b] = await Promise.all([first.sweep(), second.sweep()]);
      const expected = [...users.map((u) => `r1/${u}`), ...users.filter((_, i) => i % 2 === 0).map((u) => `r2/${u}`)].sort();
      assert.deepEqual(sortedGone([...a, ...b]), expected);
    });

    test("a heartbeat re-adds an entry that was already swept", async () => {
      const p = presence();
      await p.join(entry("r1", "ann", "c1"));
      await sleep(TTL_MS + 100);
      assert.deepEqual(sortedGone(await p.sweep()), ["r1/ann"]);
      assert.deepEqual(await p.online("r1"), []);
      await p.heartbeat([entry("r1", "ann", "c1")]);
      assert.deepEqual(await p.online("r1"), ["ann"]);
      assert.equal(await p.leave(entry("r1", "ann", "c1")), true);
    });

    test("a user whose leave was announced is not announced again by a sweep", async () => {
      // Two tabs on two processes; the process holding c1 dies (no more heartbeats), then the
      // user closes c2 before any sweep. leave(c2) announces the leave; the sweep that later
      // drops the dead c1 must not announce the same user leaving a second time.
      const p = presence();
      await p.join(entry("r1", "ann", "c1"));
      await p.join(entry("r1", "ann", "c2"));
      await sleep(TTL_MS / 2 + 50);
      await p.heartbeat([entry("r1", "ann", "c2")]);
      await sleep(TTL_MS / 2 + 50);
      assert.deepEqual(await p.online("r1"), ["ann"], "c2 is live, c1 has expired unswept");
      assert.equal(await p.leave(entry("r1", "ann", "c2")), true, "c2 was ann's last live connection");
      assert.deepEqual(await p.online("r1"), []);
      assert.deepEqual(await p.sweep(), [], "ann's leave was already announced by leave()");
    });
  });
}

describe("RedisRateLimiter when Redis cannot answer", () => {
  test("consume fails open and reports the error through onError", async () => {
    // A closed port, no retries, no offline queue: every command fails at once. Needs no
    // running Redis, so it runs everywhere.
    const dead = new Redis("redis://127.0.0.1:1", {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    dead.on("error", () => {});
    const errors: unknown[] = [];
    const limiter = new RedisRateLimiter(dead, "test:dead:", { capacity: 1, refillPerSec: 0.001 }, (err) => errors.push(err));
    try {
      for (let n = 0; n < 3; n++) assert.deepEqual(await limiter.consume("user-1"), { allowed: true, retryAfterMs: 0 }, `consume ${n + 1}`);
      assert.equal(errors.length, 3, "each failed consume was reported");
      for (const err of errors) assert.ok(err instanceof Error, `reported an Error: ${String(err)}`);
    } finally {
      await limiter.close();
      dead.disconnect();
    }
  });
});
