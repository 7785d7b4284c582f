import assert from "node:assert/strict";
import { createServer, connect as tcpConnect, type Server as TcpServer } from "node:net";
import { describe, test } from "node:test";
import { CoachClient } from "../protocol/client.ts";
import type { WireError } from "../protocol/errors.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { createRoom, createUser } from "./support/fixtures.ts";
import { useRoomFixture } from "./support/room-fixture.ts";
import { eventually } from "./support/server.ts";

// Reconnect storms and rolling deploys (issue 13), from the SDK's side, against a real server:
// the SDK schedules its own reconnects (after a transport failure, however it failed, and after a
// refused handshake, honouring the server's retry hint), and after a reconnect it gets back into
// all its rooms with ONE rooms:resume request.
//
// The last suite needs the server's `rooms:resume` handler (issue 13, server side). Until that is
// merged the server never answers the request, so that suite FAILS on a branch without it (the
// rooms are never resumed); the other suites pass on their own.

const room = useRoomFixture();

/** Resolves with a free TCP port on 127.0.0.1 (nothing listens on it once this resolves). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Listens on `port` and pipes each connection to `targetPort`: the server "comes back" there. */
async function forward(port: number, targetPort: number): Promise<TcpServer> {
  const proxy = createServer((inbound) => {
    const outbound = tcpConnect(targetPort, "127.0.0.1");
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
  return proxy;
}

describe("SDK reconnects on its own schedule", () => {
  test("when the engine cannot even open (nothing listening), it keeps trying and connects once the server is reachable", async () => {
    const { server, tdb } = room;
    const user = await createUser(tdb.db);
    const port = await freePort();
    const client = new CoachClient({ url: `http://127.0.0.1:${port}`, tokens: { accessToken: await server.tokenFor(user) } });
    let failures = 0;
    let closedFor: string | undefined;
    client.socket.on("connect_error", () => failures++);
    client.on("closed", (reason) => (closedFor = reason));
    let proxy: TcpServer | undefined;
    try {
      const connected = client.connect();
      await eventually(() => failures >= 1, "a first attempt failed (connection refused)");
      proxy = await forward(port, server.port);
      await eventually(() => client.socket.connected, "connected once the server is reachable");
      await connected;
      assert.equal(client.socket.connected, true);
      assert.equal(closedFor, undefined, "a transport failure never ends the session");
    } finally {
      client.close();
      proxy?.close();
    }
  });

  test("a handshake refused retryably with a hint is tried again no sooner than retryAfterMs", async () => {
    const { server, tdb } = room;
    const user = await createUser(tdb.db);
    const hint = { retryAfterMs: 1500, retryWindowMs: 500 };
    const arrivals: number[] = [];
    // Refuses this user's first two handshakes the way the server's admission control does
    // (UNAVAILABLE with a hint), after the server's own checks passed.
    server.io.use((socket, next) => {
      if (socket.data.principal?.userId !== user.id) return next();
      arrivals.push(performance.now());
      if (arrivals.length > 2) return next();
      const data: WireError = { code: "UNAVAILABLE", message: "over capacity; come back later", retryable: true, ...hint };
      next(Object.assign(new Error(data.message), { data }));
      setImmediate(() => socket.conn.close());
    });
    const refusals: unknown[] = [];
    const client = new CoachClient({ url: server.url, tokens: { accessToken: await server.tokenFor(user) } });
    client.socket.on("connect_error", (err) => refusals.push((err as Error & { data?: unknown }).data));
    try {
      await client.connect();
      assert.equal(arrivals.length, 3, "two refusals, then connected");
      assert.deepEqual(refusals.map((r) => (r as WireError).code), ["UNAVAILABLE", "UNAVAILABLE"]);
      const gaps = [arrivals[1]! - arrivals[0]!, arrivals[2]! - arrivals[1]!];
      // A lower bound only: the SDK's own backoff would have come back within 1 s the first time.
      for (const gap of gaps) assert.ok(gap >= hint.retryAfterMs, `came back after ${gap.toFixed(0)} ms, not sooner than ${hint.retryAfterMs}`);
    } finally {
      client.close();
    }
  });
});

describe("SDK resume after a transport drop", () => {
  test("a client in 3 rooms resumes them with exactly one rooms:resume and misses nothing sent meanwhile", async () => {
    const { server, tdb, coach } = room;
    const student = await createUser(tdb.db);
    const roomIds = [await createRoom(tdb.db, [coach, student]), await createRoom(tdb.db, [coach, student]), await createRoom(tdb.db, [coach, student])];
    // What the student's connections ask the server, per connection, in order.
    const asked = new Map<string, string[]>();
    server.io.on("connection", (socket) => {
      if (socket.data.principal.userId !== student.id) return;
      const events: string[] = [];
      asked.set(socket.id, events);
      socket.onAny((event: string) => events.push(event));
    });

    const receiver = await server.client(student);
    const seen = new Map<string, number[]>(roomIds.map((id) => [id, []]));
    receiver.on("event", (e: RoomEvent) => seen.get(e.roomId)?.push(e.seq));
    const resumed: string[] = [];
    receiver.on("resumed", (id) => resumed.push(id));
    for (const id of roomIds) await receiver.join(id);
    const sender = await server.client(coach);
    const sent = new Map<string, number[]>(roomIds.map((id) => [id, []]));
    const say = async (text: string) => {
      for (const id of roomIds) sent.get(id)!.push((await sender.send(id, { text })).seq);
    };
    await say("before the drop");
    await eventually(() => roomIds.every((id) => receiver.cursor(id) === sent.get(id)!.at(-1)), "the receiver has the first messages");

    const firstConnection = receiver.socket.id!;
    receiver.socket.io.engine.close(); // a transport drop: the SDK reconnects after its backoff
    await say("while away (1)");
    await say("while away (2)");
    await eventually(() => roomIds.every((id) => resumed.includes(id)), "every room was resumed");
    await say("after the resume");
    await eventually(() => roomIds.every((id) => receiver.cursor(id) === sent.get(id)!.at(-1)), "the receiver caught up in every room");

    for (const id of roomIds) assert.deepEqual(seen.get(id), sent.get(id), `room ${id}: every event once, in order`);
    const later = [...asked].filter(([id]) => id !== firstConnection).flatMap(([, events]) => events);
    assert.equal(later.filter((e) => e === "rooms:resume").length, 1, `one rooms:resume for the 3 rooms; asked: ${later.join(", ")}`);
    assert.equal(later.filter((e) => e === "room:join").length, 0, "no room:join per room");
    assert.deepEqual(resumed.sort(), [...roomIds].sort(), "each room resumed once");
  });
});
