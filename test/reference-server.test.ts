import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { SignJWT } from "jose";
import { CoachClient } from "../protocol/client.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { haproxyInstalled, startStack, type Stack } from "../server/stack.ts";
import { REQUIRE_SERVICES } from "./support/databases.ts";
import { freePorts } from "./support/cluster-stack.ts";
import { deleteKeys, freshPrefix, REDIS_URL, redisAvailable } from "./support/redis-keyspace.ts";
import { eventually } from "./support/server.ts";

// The bench's reference server (bench/reference/): plain Socket.IO on uWS with the Redis adapter,
// started the way the bench starts it — startStack with the reference cluster as its entry —
// and driven by the unchanged SDK. It stores nothing, so the SDK cannot fill a gap from history:
// every event a client is handed arrived as a live broadcast.

async function missingServices(): Promise<string | undefined> {
  if (!haproxyInstalled()) {
    if (REQUIRE_SERVICES) throw new Error("HAProxy is required (TEST_REQUIRE_SERVICES=1) but is not installed");
    return "HAProxy is not installed (apt-get install -y haproxy)";
  }
  if (!(await redisAvailable())) return `Redis is not reachable at ${REDIS_URL}`;
  return undefined;
}

const skip = (await missingServices()) ?? false;

/** A token the reference reads without verifying: any JWT whose `sub` names the user. */
function unverifiedToken(userId: string): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(userId).setIssuedAt().setExpirationTime("15m").sign(randomBytes(32));
}

describe("bench reference server: HAProxy → 2 plain Socket.IO processes on the Redis adapter", { skip }, () => {
  const prefix = `reference-${freshPrefix()}`;
  let stack: Stack | undefined;
  let redis: Redis;
  const clients: CoachClient[] = [];

  before(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    stack = await startStack({
      clusterEntry: "bench/reference/cluster.ts",
      stdio: process.env["TEST_STACK_OUTPUT"] === "inherit" ? "inherit" : "ignore",
      workers: 2,
      balancers: 1,
      lbPort: await freePorts(1),
      statsPortBase: await freePorts(1),
      portBase: await freePorts(2),
      redisUrl: REDIS_URL,
      serverEnv: { COACHWIRE_REDIS_PREFIX: prefix, COACHWIRE_LOG_LEVEL: "warn" },
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await stack?.stop();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  async function connect(url: string, userId: string): Promise<CoachClient> {
    const client = new CoachClient({ url, tokens: { accessToken: await unverifiedToken(userId) }, ackTimeoutMs: 2000 });
    clients.push(client);
    await client.connect();
    return client;
  }

  /** `coachwire_connections` of reference process `i`. */
  async function connections(i: number): Promise<number> {
    const text = await (await fetch(`${stack!.serverUrls[i]}/metrics`)).text();
    const match = /^coachwire_connections (\d+)/m.exec(text);
    assert.ok(match, "the reference's /metrics has coachwire_connections");
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds /m, "the reference's /metrics has the event-loop lag");
    return Number(match[1]);
  }

  test("the SDK joins, sends 20 messages, and both clients receive all 20 once, in seq order, across processes", async () => {
    const s = stack!;
    const health = await Promise.all(s.serverUrls.map(async (u) => (await fetch(`${u}/healthz`)).json() as Promise<{ ok: boolean; pid: number }>));
    assert.equal(new Set(health.map((h) => h.pid)).size, 2, "two server processes answer /healthz");

    // The sender comes in through HAProxy; the receiver goes straight to the other process,
    // so every event crosses the Redis adapter to reach it.
    const sender = await connect(s.lbUrl, "coach-1");
    await eventually(async () => (await connections(0)) + (await connections(1)) === 1, "the sender's connection is counted");
    const senderOn = (await connections(0)) === 1 ? 0 : 1;
    const receiver = await connect(s.serverUrls[1 - senderOn]!, "student-1");

    const roomId = `room-${randomUUID()}`;
    const seen = [sender, receiver].map((client) => {
      const events: RoomEvent[] = [];
      client.on("event", (e) => e.roomId === roomId && events.push(e));
      return events;
    });
    for (const client of [sender, receiver]) assert.equal((await client.join(roomId)).lastSeq, 0, "a new room starts at seq 0");

    const count = 20;
    const sent = Array.from({ length: count }, (_, i) => ({ clientId: `m-${i + 1}`, text: `message ${i + 1}` }));
    const acks = await Promise.all(sent.map((m) => sender.send(roomId, { text: m.text }, m.clientId)));
    const range = Array.from({ length: count }, (_, i) => i + 1);
    assert.deepEqual(acks.map((a) => a.seq).sort((a, b) => a - b), range, "the acks hold seqs 1..20, each once");
    assert.ok(acks.every((a) => !a.duplicate));

    await eventually(() => seen.every((events) => events.length >= count), "both clients are handed all 20 events");
    const seqOf = new Map(sent.map((m, i) => [m.clientId, acks[i]!.seq]));
    for (const [i, events] of seen.entries()) {
      assert.deepEqual(events.map((e) => e.seq), range, `client ${i} was handed seqs 1..20 once, in order`);
      for (const e of events) {
        assert.equal(e.seq, seqOf.get(e.clientId!), "each event carries the seq its send was acked with");
        assert.equal(e.senderId, "coach-1", "the sender is the token's sub");
        assert.deepEqual(e.body, { text: `message ${e.clientId!.slice(2)}` });
      }
    }
    assert.equal(await redis.get(`${prefix}seq:${roomId}`), String(count), "the room's counter lives in Redis under the prefix");
  });
});
