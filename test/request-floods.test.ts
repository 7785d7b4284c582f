import assert from "node:assert/strict";
import { get } from "node:http";
import { describe, test } from "node:test";
import type { CoachClient } from "../protocol/client.ts";
import { runFlood } from "../bench/flood-runner.ts";
import { useRoomFixture } from "./support/room-fixture.ts";

// Floods by clients that got in (issue 9, defect 2): a connection that stays over its request
// budget is closed with a reconnect-class reason and a backoff it must honour; GET /metrics is
// cached, allow-listed, or on a port of its own. The floods run in processes of their own.

/** Sends chat one message at a time (within its budget) until `stop()` says so; the acked seqs in arrival order. */
async function steadySends(client: CoachClient, roomId: string, stop: () => boolean): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; !stop() || seqs.length < 3; i++) {
    seqs.push((await client.send(roomId, { text: `steady ${i}` })).seq);
    await new Promise((r) => setTimeout(r, 100));
  }
  return seqs;
}

const increasing = (seqs: number[]) => seqs.every((s, i) => i === 0 || s > seqs[i - 1]!);

/** GET from a chosen local address: status and body. */
function getFrom(url: string, localAddress: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { localAddress }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

describe("a msg:send flood", () => {
  const room = useRoomFixture(
    { COACHWIRE_SEND_RATE_PER_S: "20", COACHWIRE_SEND_BURST: "40", COACHWIRE_FLOOD_GRACE_MS: "1000", COACHWIRE_FLOOD_BACKOFF_MS: "5000" },
    2,
  );

  test("is closed with session:closing {reason: 'rate limited', reconnect: true, retryAfterMs}; an early reconnect is refused; another client's acks keep arriving in order", async () => {
    const { server, roomId } = room;
    const [steadyUser, flooder] = room.students as [typeof room.students[0], typeof room.students[0]];
    const steady = await server.client(steadyUser!);
    await steady.join(roomId);
    let flooding = true;
    const flood = runFlood({
      mode: "msg-flood",
      url: server.url,
      localAddress: "127.0.0.2",
      token: await server.tokenFor(flooder!),
      roomId,
      inFlight: 200,
      maxMs: 30_000,
    }).finally(() => (flooding = false));
    const seqs = await steadySends(steady, roomId, () => !flooding);
    const outcome = await flood;
    assert.equal(outcome.closed, true, `the flooder was disconnected (sent ${outcome.sent}, answered ${outcome.answers})`);
    assert.deepEqual(outcome.notice, { reason: "rate limited", reconnect: true, retryAfterMs: 5000, retryWindowMs: 1000 });
    assert.equal((outcome.reconnectError as { code?: string }).code, "RATE_LIMITED", "a reconnect inside the backoff is refused");
    assert.ok(increasing(seqs), `acks in order: ${seqs.join(",")}`);
    // The other connections of the room are untouched.
    assert.equal(steady.socket.connected, true);
  });
});

describe("GET /metrics on the main port", () => {
  const room = useRoomFixture({ COACHWIRE_METRICS_CIDRS: "127.0.0.1/32", COACHWIRE_METRICS_CACHE_MS: "60000", COACHWIRE_METRICS_RATE_PER_MIN: "1000000" });

  test("32 parallel scrapers in another process are answered while another client's acks keep arriving in order", async () => {
    const { server, roomId } = room;
    const steady = await server.client(room.students[0]!);
    await steady.join(roomId);
    let scraping = true;
    const flood = runFlood({ mode: "scrape", url: `${server.url}/metrics`, parallel: 32, ms: 3000 }).finally(() => (scraping = false));
    const seqs = await steadySends(steady, roomId, () => !scraping);
    const outcome = await flood;
    assert.deepEqual(outcome.statuses, [200]);
    assert.ok(outcome.answers >= 32, `scrapes answered: ${outcome.answers}`);
    assert.ok(increasing(seqs), `acks in order: ${seqs.join(",")}`);
  });

  test("is rendered once per COACHWIRE_METRICS_CACHE_MS: a counter that moved in between does not show", async () => {
    const { server } = room;
    const first = await (await fetch(`${server.url}/metrics`)).text();
    await fetch(`${server.url}/api/rooms`); // counted in coachwire_http_requests_total
    const second = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(first, /^coachwire_connections /m);
    assert.equal(second, first);
  });

  test("is FORBIDDEN to a client outside COACHWIRE_METRICS_CIDRS", async () => {
    const res = await getFrom(`${room.server.url}/metrics`, "127.0.0.2");
    assert.equal(res.status, 403);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, "FORBIDDEN");
  });
});

describe("GET /metrics per client IP", () => {
  const room = useRoomFixture({ COACHWIRE_METRICS_RATE_PER_MIN: "3", COACHWIRE_METRICS_PORT: "0" });

  test("past COACHWIRE_METRICS_RATE_PER_MIN an IP's scrapes are RATE_LIMITED, on the metrics port too; another IP has its own budget", async () => {
    const url = `http://127.0.0.1:${room.server.metricsPort}/metrics`;
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await getFrom(url, "127.0.0.2")).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const refused = await getFrom(url, "127.0.0.2");
    assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, "RATE_LIMITED");
    assert.equal((await getFrom(url, "127.0.0.3")).status, 200);
  });
});

describe("GET /metrics with COACHWIRE_METRICS_PORT", () => {
  const room = useRoomFixture({ COACHWIRE_METRICS_PORT: "0" });

  test("is served on its own port and not on the clients' port", async () => {
    const { server } = room;
    assert.ok(server.metricsPort, "a metrics port is bound");
    const main = await fetch(`${server.url}/metrics`);
    assert.equal(main.status, 404);
    assert.equal(((await main.json()) as { error: { code: string } }).error.code, "NOT_FOUND");
    const own = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
    assert.equal(own.status, 200);
    assert.match(await own.text(), /^coachwire_connections /m);
    assert.equal((await fetch(`http://127.0.0.1:${server.metricsPort}/api/rooms`)).status, 404, "nothing else is served there");
  });
});
