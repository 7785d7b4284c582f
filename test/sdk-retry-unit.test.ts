import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ERROR_CATALOG, type ErrorCode } from "../protocol/errors.ts";
import { afterHint, backoffDelay, REJOIN_BACKOFF, REQUEST_BACKOFF } from "../protocol/sdk/backoff.ts";
import { RequestError, retryUntilAcked, type RetryContext } from "../protocol/sdk/requests.ts";
import { TokenKeeper } from "../protocol/sdk/tokens.ts";

// The SDK's retry policy and token renewal without a server: the delays as functions of the
// attempt and a random draw, the retry loop on a hand-driven clock.

const refusal = (code: ErrorCode) => new RequestError({ code, message: ERROR_CATALOG[code].message, retryable: ERROR_CATALOG[code].retryable });

describe("backoff", () => {
  test("doubles from the base, stops at the cap, and is jittered between 0.5x and 1.5x", () => {
    assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(REQUEST_BACKOFF, n, 0.5)), [50, 100, 200, 400]);
    assert.equal(backoffDelay(REQUEST_BACKOFF, 10, 0.5), 2000);
    assert.equal(backoffDelay(REQUEST_BACKOFF, 0, 0), 25);
    assert.equal(backoffDelay(REQUEST_BACKOFF, 10, 0.999_999) < 3000, true);
    assert.deepEqual([0, 1, 5].map((n) => backoffDelay(REJOIN_BACKOFF, n, 0.5)), [200, 400, 5000]);
  });

  test("a server's retryAfterMs is waited in full, plus at most the jitter", () => {
    assert.equal(afterHint(30_000, 1000, 0), 30_000, "never sooner than the hint: a sooner handshake is refused");
    assert.equal(afterHint(30_000, 1000, 0.5), 30_500);
    assert.ok(afterHint(30_000, 1000, 0.999_999) < 31_000);
    assert.equal(afterHint(0, 1000, 0.25), 250, "without a hint, the jitter alone spreads the reconnects");
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
    assert.deepEqual(sleeps, [50, 100, 200]);
  });

  test("a refusal that will not pass ends it at once", async () => {
    const { ctx, sleeps } = session();
    await assert.rejects(retryUntilAcked("msg:send", () => Promise.reject(refusal("MUTED")), 60_000, ctx), (err: unknown) => err instanceof RequestError && err.error.code === "MUTED");
    assert.deepEqual(sleeps, []);
  });

  test("it gives up once the deadline has passed", async () => {
    const { ctx, sleeps } = session();
    await assert.rejects(retryUntilAcked("task:progress", () => Promise.reject(refusal("UNAVAILABLE")), 1000, ctx), /task:progress not acknowledged before the deadline/);
    assert.deepEqual(sleeps, [50, 100, 200, 400, 800], "it backs off until the clock is past the deadline (1550 ms > 1000 ms), then stops");
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
