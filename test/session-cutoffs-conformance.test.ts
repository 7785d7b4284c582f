import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, test } from "node:test";
import { LocalSessionCutoffs } from "../server/denylist/local-session-cutoffs.ts";
import { RedisSessionCutoffs } from "../server/denylist/redis-session-cutoffs.ts";
import type { SessionCutoffs } from "../server/denylist/session-cutoffs.ts";
import { REDIS_URL, redisAvailable, redisKeyspace } from "./support/redis-keyspace.ts";

// Per-user session cutoffs ("every token of this user signed before T is void": deactivation,
// password change) have an in-process and a Redis implementation; both pass this one suite.
// The redis variant uses two connections, as two server processes would.

type Variant = "local" | "redis";
const redisUp = await redisAvailable();

for (const variant of ["local", "redis"] as const satisfies readonly Variant[]) {
  describe(`SessionCutoffs conformance (${variant})`, { skip: variant === "redis" && !redisUp && `Redis is not reachable at ${REDIS_URL}` }, () => {
    const keyspace = variant === "redis" ? redisKeyspace(2) : undefined;
    const opened: SessionCutoffs[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((c) => c.close()));
    });
    /** Two handles on one state: two processes for redis, the one process locally. */
    function pair(): [SessionCutoffs, SessionCutoffs] {
      if (!keyspace) {
        const only = new LocalSessionCutoffs();
        opened.push(only);
        return [only, only];
      }
      const [a, b] = keyspace.connections.map((r) => new RedisSessionCutoffs(r, keyspace.prefix));
      opened.push(a!, b!);
      return [a!, b!];
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
