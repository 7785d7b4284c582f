import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { DatabaseSessionCutoffs } from "../server/denylist/database-session-cutoffs.ts";
import { RedisSessionCutoffs } from "../server/denylist/redis-session-cutoffs.ts";
import type { SessionCutoffs } from "../server/denylist/session-cutoffs.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { REDIS_URL, redisAvailable, redisKeyspace } from "./support/redis-keyspace.ts";

// Per-user session cutoffs ("every token of this user signed before T is void": deactivation,
// password change) have a database (PGlite or PostgreSQL: no Redis) and a Redis implementation;
// all pass this one suite. Two handles are two connections (redis) or two instances on one
// database, as two server processes would have.

type Variant = "pglite" | "pg" | "redis";
const redisUp = await redisAvailable();

for (const variant of [...(await availableDrivers()), "redis"] as Variant[]) {
  describe(`SessionCutoffs conformance (${variant})`, { skip: variant === "redis" && !redisUp && `Redis is not reachable at ${REDIS_URL}` }, () => {
    const keyspace = variant === "redis" ? redisKeyspace(2) : undefined;
    let tdb: TestDatabase | undefined;
    before(async () => {
      if (variant !== "redis") tdb = await openTestDatabase(variant);
    });
    after(async () => {
      await tdb?.drop();
    });
    // The database variants share one database per suite: each test's users are its own.
    let n = 0;
    beforeEach(() => void n++);
    const opened: SessionCutoffs[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((c) => c.close()));
    });
    /** Two handles on one state: two processes for redis, the one process locally. */
    function pair(): [SessionCutoffs, SessionCutoffs] {
      const [a, b] = keyspace
        ? keyspace.connections.map((r) => new RedisSessionCutoffs(r, keyspace.prefix))
        : [new DatabaseSessionCutoffs(tdb!.db), new DatabaseSessionCutoffs(tdb!.db)];
      opened.push(a!, b!);
      return [scoped(a!), scoped(b!)];
    }

    /** The handle with this test's user ids (u1 → u1-<n>), so tests on one database do not meet. */
    function scoped(c: SessionCutoffs): SessionCutoffs {
      return { cut: (u, at, keep) => c.cut(`${u}-${n}`, at, keep), cutoff: (u) => c.cutoff(`${u}-${n}`), close: () => c.close() };
    }

    test("a user without a cut has cutoff 0; a cut is seen by every handle, for that user only", async () => {
      const [a, b] = pair();
      assert.equal(await a.cutoff("u1"), 0);
      await a.cut("u1", 1_000_000, Date.now() + 60_000);
      assert.equal(await b.cutoff("u1"), 1_000_000);
      assert.equal(await b.cutoff("u2"), 0);
    });

    test("a later cut moves the cutoff forward; an earlier one never moves it back", async () => {
      const [a, b] = pair();
      await a.cut("u1", 2_000, Date.now() + 60_000);
      await b.cut("u1", 5_000, Date.now() + 60_000);
      await a.cut("u1", 3_000, Date.now() + 60_000);
      assert.equal(await a.cutoff("u1"), 5_000);
      assert.equal(await b.cutoff("u1"), 5_000);
    });

    test("a cut is forgotten once kept long enough; a longer keep by a later cut wins", async () => {
      const [a, b] = pair();
      await a.cut("short", 1, Date.now() + 300);
      await a.cut("long", 1, Date.now() + 300);
      await b.cut("long", 2, Date.now() + 60_000);
      await sleep(450);
      assert.equal(await b.cutoff("short"), 0);
      assert.equal(await a.cutoff("long"), 2);
    });

    test("a cut kept until a time already past is not recorded", async () => {
      const [a] = pair();
      await a.cut("past", 123, Date.now() - 1);
      assert.equal(await a.cutoff("past"), 0);
    });
  });
}
