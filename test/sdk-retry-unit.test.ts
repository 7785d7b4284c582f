import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ERROR_CATALOG, type ErrorCode } from "../protocol/errors.ts";
import { fromHint, fullJitter, hintOf, RECONNECT_BACKOFF, REJOIN_BACKOFF, REQUEST_BACKOFF, retryDelay } from "../protocol/sdk/backoff.ts";
import { RequestError, retryUntilAcked, type RetryContext } from "../protocol/sdk/requests.ts";
import { TokenKeeper } from "../protocol/sdk/tokens.ts";

// The SDK's retry policy and token renewal without a server: the delays as functions of the
// attempt and a random draw, the retry loop on a hand-driven clock.

/** A catalog refusal as the server sends it, with a retry hint when given. */
const refusal = (code: ErrorCode, hint?: { retryAfterMs: number; retryWindowMs: number }) =>
  new RequestError({ code, message: ERROR_CATALOG[code].message, retryable: ERROR_CATALOG[code].retryable, ...hint });

const draws = [0, 0.25, 0.5, 0.999_999];

describe("backoff", () => {
  test("full jitter is uniform between 0 and the exponential bound, which doubles from the base", () => {
    for (const n of [0, 1, 2, 3]) {
      const bound = 50 * 2 ** n;
      for (const r of draws) {
        const delay = fullJitter(REQUEST_BACKOFF, n, r);
        assert.ok(delay >= 0 && delay < bound, `attempt ${n}, draw ${r}: ${delay} in [0, ${bound})`);
      }
      assert.equal(fullJitter(REQUEST_BACKOFF, n, 0), 0, "a draw of 0 retries at once: the spread starts at 0");
      assert.equal(fullJitter(REQUEST_BACKOFF, n, 0.5), bound / 2);
    }
  });

  test("the bound stops at the cap however many attempts failed", () => {
    for (const [policy, cap] of [[REQUEST_BACKOFF, 2000], [RECONNECT_BACKOFF, 5000], [REJOIN_BACKOFF, 5000]] as const) {
      for (const n of [10, 50, 2000]) {
        assert.equal(fullJitter(policy, n, 0.5), cap / 2, `attempt ${n}`);
        assert.ok(fullJitter(policy, n, 0.999_999) < cap);
      }
    }
    assert.equal(fullJitter(RECONNECT_BACKOFF, 2, 0.5), 2000, "below the cap it still doubles");
    assert.equal(fullJitter(RECONNECT_BACKOFF, 3, 0.5), 2500, "1000 · 2^3 = 8000 is capped at 5000");
  });

  test("a crowd reconnecting after one failure comes back spread over the first second", () => {
    for (const r of draws) assert.ok(fullJitter(RECONNECT_BACKOFF, 0, r) < 1000);
    assert.equal(fullJitter(RECONNECT_BACKOFF, 0, 0.25), 250);
    assert.equal(fullJitter(REJOIN_BACKOFF, 0, 0.5), 100);
  });

  test("a server's hint is waited in full, then spread over its window", () => {
    const hint = { afterMs: 30_000, windowMs: 1000 };
    assert.equal(fromHint(hint, 0), 30_000, "never sooner than the hint: a sooner try is refused");
    assert.equal(fromHint(hint, 0.5), 30_500);
    for (const r of draws) {
      const delay = fromHint(hint, r);
      assert.ok(delay >= 30_000 && delay <= 31_000, `draw ${r}: ${delay} in [30000, 31000]`);
    }
    assert.equal(fromHint({ afterMs: 250, windowMs: 0 }, 0.9), 250, "no window: exactly the hint");
  });

  test("a hint is read from a wire error or notice when it is usable, else the backoff applies", () => {
    assert.deepEqual(hintOf({ retryAfterMs: 250, retryWindowMs: 1000 }), { afterMs: 250, windowMs: 1000 });
    assert.deepEqual(hintOf({ retryAfterMs: 0, retryWindowMs: 0 }), { afterMs: 0, windowMs: 0 });
    assert.deepEqual(hintOf({ retryAfterMs: 30_000 }, 1000), { afterMs: 30_000, windowMs: 1000 }, "no window: the caller's spread");
    assert.deepEqual(hintOf({ retryAfterMs: 30_000 }), { afterMs: 30_000, windowMs: 0 });
    for (const bad of [undefined, {}, { retryAfterMs: -1 }, { retryAfterMs: "5" }, { retryAfterMs: Number.NaN }, { retryAfterMs: Infinity }, { retryWindowMs: 100 }]) {
      assert.equal(hintOf(bad), undefined, JSON.stringify(bad));
    }
    assert.deepEqual(hintOf({ retryAfterMs: 5, retryWindowMs: -3 }, 7), { afterMs: 5, windowMs: 7 }, "a bad window is replaced");
    assert.equal(retryDelay({ afterMs: 1000, windowMs: 1000 }, REQUEST_BACKOFF, 0, 0.5), 1500);
    assert.equal(retryDelay(undefined, REQUEST_BACKOFF, 2, 0.5), 100);
  });
});

/** A session on a clock that moves only when the loop sleeps. */
function session(overrides: Partial<RetryContext> = {}) {
  let now = 0;
  const sleeps: number[] = [];
  const ctx: RetryContext = {
    closedReason: () => undefined,
    isConnected: () => true,
    now: () => now,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    ...overrides,
  };
  return { ctx, sleeps };
}

describe("retryUntilAcked", () => {
  test("timeouts and retryable refusals are repeated with the same request until acknowledged", async () => {
    const { ctx, sleeps } = session();
    const failures = [new Error("operation has timed out"), refusal("RATE_LIMITED"), refusal("UNAVAILABLE")];
    let attempts = 0;
    const result = await retryUntilAcked("msg:send", async () => {
      attempts++;
      const failure = failures.shift();
      if (failure) throw failure;
      return { seq: 7 };
    }, 60_000, ctx);
    assert.deepEqual(result, { seq: 7 });
    assert.equal(attempts, 4);
    assert.deepEqual(sleeps, [25, 50, 100], "no hints given: full jitter by attempt (draw 0.5: half the bound)");
  });

  test("a refusal that will not pass ends it at once", async () => {
    const { ctx, sleeps } = session();
    await assert.rejects(retryUntilAcked("msg:send", () => Promise.reject(refusal("MUTED")), 60_000, ctx), (err: unknown) => err instanceof RequestError && err.error.code === "MUTED");
    assert.deepEqual(sleeps, []);
  });

  test("it gives up once the deadline has passed", async () => {
    const { ctx, sleeps } = session();
    await assert.rejects(retryUntilAcked("task:progress", () => Promise.reject(refusal("UNAVAILABLE")), 1000, ctx), /task:progress not acknowledged before the deadline/);
    assert.deepEqual(sleeps, [25, 50, 100, 200, 400, 800], "it backs off until the clock is past the deadline (1575 ms > 1000 ms), then stops");
  });

  test("a retryable refusal with a hint waits the hint; one without waits the backoff", async () => {
    const { ctx, sleeps } = session();
    const failures = [
      refusal("RATE_LIMITED", { retryAfterMs: 1000, retryWindowMs: 1000 }),
      new Error("operation has timed out"),
      refusal("UNAVAILABLE", { retryAfterMs: 250, retryWindowMs: 0 }),
      refusal("UNAVAILABLE"),
    ];
    let attempts = 0;
    await retryUntilAcked("msg:send", async () => {
      attempts++;
      const failure = failures.shift();
      if (failure) throw failure;
      return "acked";
    }, 60_000, ctx);
    assert.equal(attempts, 5);
    assert.deepEqual(sleeps, [1500, 50, 250, 200], "hint 1000+0.5·1000; backoff attempt 1; hint 250; backoff attempt 3");
  });

  test("a hint that would outlast the deadline ends it at once with the refusal itself", async () => {
    const { ctx, sleeps } = session();
    const quota = refusal("QUOTA_EXCEEDED", { retryAfterMs: 60_000, retryWindowMs: 60_000 });
    await assert.rejects(retryUntilAcked("task:create", () => Promise.reject(quota), 60_000, ctx), (err: unknown) => err === quota);
    assert.deepEqual(sleeps, [], "no sleep past the deadline: the app learns why at once");
  });

  test("without a connection it waits instead of sending; a closed session ends it", async () => {
    let connected = false;
    let closed: string | undefined;
    let attempts = 0;
    const { ctx, sleeps } = session({
      isConnected: () => connected,
      closedReason: () => closed,
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 2) connected = true;
      },
    });
    assert.deepEqual(await retryUntilAcked("msg:send", async () => ++attempts, 60_000, ctx), 1);
    assert.equal(sleeps.length, 2, "two turns without a connection, then one attempt");
    closed = "banned";
    await assert.rejects(retryUntilAcked("msg:send", async () => ++attempts, 60_000, ctx), /session closed: banned/);
    assert.equal(attempts, 1);
  });
});

describe("token keeper", () => {
  test("the app's refresh renews the token the next handshake sends", async () => {
    const keeper = new TokenKeeper({ accessToken: "old" }, "http://127.0.0.1:1", async () => ({ accessToken: "new" }));
    assert.equal(await keeper.refresh(), true);
    assert.equal(keeper.accessToken, "new");
    keeper.set({ accessToken: "set elsewhere" });
    assert.equal(keeper.accessToken, "set elsewhere");
  });

  test("a refresh that resolves nothing or fails ends the renewal and keeps the old token", async () => {
    const over = new TokenKeeper({ accessToken: "old" }, "http://127.0.0.1:1", async () => undefined);
    assert.equal(await over.refresh(), false);
    assert.equal(over.accessToken, "old");
    const failing = new TokenKeeper({ accessToken: "old" }, "http://127.0.0.1:1", () => Promise.reject(new Error("offline")));
    assert.equal(await failing.refresh(), false);
    assert.equal(failing.accessToken, "old");
  });

  test("without a refresh and without a refresh token nothing can be renewed", async () => {
    const keeper = new TokenKeeper({ accessToken: "old" }, "http://127.0.0.1:1", undefined);
    assert.equal(await keeper.refresh(), false);
  });
});
