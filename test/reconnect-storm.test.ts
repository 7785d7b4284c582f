import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Socket } from "socket.io-client";
import type { WireError } from "../protocol/errors.ts";
import type { Ack, ResumeResult, RoomEvent } from "../protocol/events.ts";
import { MAX_RESUME_ROOMS } from "../protocol/schemas.ts";
import { createRoom, createUser } from "./support/fixtures.ts";
import { useRoomFixture } from "./support/room-fixture.ts";
import { connectRaw, eventually, handshakeRefusal, type TestServer } from "./support/server.ts";

// Reconnect storms (issue 13), the server's side: a reconnected client's rooms come back in one
// rooms:resume request whose reads are shared with every other join of the moment; the server
// admits handshakes at the rate it can serve and tells the rest when to come back; every
// retryable refusal carries that hint; tokens are checked once per lifetime, revocations
// included; a drain moves its clients spread out. The SDK's side is test/sdk-storm.test.ts.

/** Every /metrics read renders afresh (the cache would hide a change made a moment ago). */
const NO_METRICS_CACHE = { COACHWIRE_METRICS_CACHE_MS: "0", COACHWIRE_METRICS_RATE_PER_MIN: "100000" };

/** A counter or gauge of the server's /metrics (0 when absent), summed over the series matching `labels`. */
async function metric(server: TestServer, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || line.startsWith("#")) continue;
    const series = line.slice(0, line.lastIndexOf(" "));
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    if (labels && !series.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

const resume = (socket: Socket, rooms: unknown) => socket.timeout(5000).emitWithAck("rooms:resume" as never, { rooms } as never) as Promise<Ack<ResumeResult>>;

describe("rooms:resume", () => {
  // A long batching window, so that joins sent together certainly share their reads.
  const f = useRoomFixture({ ...NO_METRICS_CACHE, COACHWIRE_JOIN_BATCH_MS: "40" }, 12);

  test("one request resumes every room from its own cursor; a room refused is refused alone, and only the others are subscribed", async () => {
    const { tdb, server, coach } = f;
    const student = f.students[0]!;
    const [roomA, roomB] = [f.roomId, await createRoom(tdb.db, [coach, student])];
    const stranger = await createRoom(tdb.db, [coach, await createUser(tdb.db)]);
    const writer = await server.client(coach);
    await writer.join(roomA);
    await writer.join(roomB);
    const a = [await writer.send(roomA, { text: "a1" }), await writer.send(roomA, { text: "a2" }), await writer.send(roomA, { text: "a3" })];
    await writer.send(roomB, { text: "b1" });

    const socket = server.rawSocket({ token: await server.tokenFor(student) });
    await connectRaw(socket);
    const live: RoomEvent[] = [];
    socket.on("room:event", (e: RoomEvent) => live.push(e));
    const res = await resume(socket, [{ roomId: roomA, since: a[0]!.seq }, { roomId: roomB }, { roomId: stranger, since: 0 }, { roomId: "no-such-room" }]);
    assert.equal(res.ok, true);
    if (!res.ok) return;
    assert.deepEqual(res.rooms.map((r) => [r.roomId, r.ok]), [[roomA, true], [roomB, true], [stranger, false], ["no-such-room", false]]);
    const [ra, rb, rs, rn] = res.rooms;
    assert.ok(ra?.ok && rb?.ok && rs && !rs.ok && rn && !rn.ok);
    assert.deepEqual(ra.events.map((e) => e.seq), [a[1]!.seq, a[2]!.seq], "room A from its cursor, nothing twice");
    assert.equal(ra.truncated, false);
    assert.equal(ra.room.lastSeq, a[2]!.seq);
    assert.ok(rb.events.some((e) => (e.body as { text?: string }).text === "b1"), "room B without since: its recent events");
    assert.ok(rb.members.some((m) => m.userId === student.id) && rb.online.includes(student.id));
    // A room of the same institution the student is not in, and one that does not exist: refused, each alone.
    assert.equal(rs.error.code, "NOT_A_MEMBER");
    assert.equal(rn.error.code, "ROOM_NOT_FOUND");

    await writer.send(stranger, { text: "not for the student" }).catch(() => undefined);
    const later = [await writer.send(roomA, { text: "a4" }), await writer.send(roomB, { text: "b2" })];
    await eventually(() => live.length >= 2, "live events of the resumed rooms");
    assert.deepEqual(live.map((e) => [e.roomId, e.seq]), [[roomA, later[0]!.seq], [roomB, later[1]!.seq]]);
    socket.disconnect();
  });

  test("a malformed resume is refused whole (VALIDATION_FAILED) and joins nothing", async () => {
    const { server, roomId } = f;
    const socket = server.rawSocket({ token: await server.tokenFor(f.students[1]!) });
    await connectRaw(socket);
    const tooMany = Array.from({ length: MAX_RESUME_ROOMS + 1 }, (_, i) => ({ roomId: `r${i}` }));
    for (const rooms of [[], [{ roomId }, { roomId }], tooMany, [{ roomId, since: -1 }], [{ roomId, extra: 1 }], "nope"]) {
      const res = await resume(socket, rooms);
      assert.equal(res.ok, false, JSON.stringify(rooms).slice(0, 80));
      if (!res.ok) assert.equal(res.error.code, "VALIDATION_FAILED");
    }
    const live: RoomEvent[] = [];
    socket.on("room:event", (e: RoomEvent) => live.push(e));
    const writer = await server.client(f.coach);
    await writer.join(roomId);
    await writer.send(roomId, { text: "after the refusals" });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(live, [], "no refused resume subscribed the socket");
    socket.disconnect();
  });

  test("sockets resuming one room from one seq at the same moment share one range scan, and each gets the same events", async () => {
    const { server, roomId, coach } = f;
    const writer = await server.client(coach);
    await writer.join(roomId);
    const since = (await writer.send(roomId, { text: "before the storm" })).seq;
    const missed = [await writer.send(roomId, { text: "missed 1" }), await writer.send(roomId, { text: "missed 2" })].map((s) => s.seq);
    const sockets = await Promise.all(
      f.students.map(async (s) => {
        const socket = server.rawSocket({ token: await server.tokenFor(s) });
        await connectRaw(socket);
        return socket;
      }),
    );
    const [readsBefore, keysBefore] = [await metric(server, "coachwire_join_reads_total", 'read="backlog"'), await metric(server, "coachwire_join_read_keys_total", 'read="backlog"')];
    const answers = await Promise.all(sockets.map((s) => resume(s, [{ roomId, since }])));
    for (const res of answers) {
      assert.ok(res.ok && res.rooms[0]?.ok);
      assert.deepEqual(res.rooms[0].events.map((e) => e.seq), missed);
    }
    const reads = (await metric(server, "coachwire_join_reads_total", 'read="backlog"')) - readsBefore;
    const keys = (await metric(server, "coachwire_join_read_keys_total", 'read="backlog"')) - keysBefore;
    // 12 joins of one (room, since): one query with one range scan, or two if the window split them.
    assert.ok(reads >= 1 && reads <= 2, `${reads} backlog queries for ${sockets.length} resumes`);
    assert.equal(keys, reads, "each query scanned the one (room, since) once, however many sockets asked");
    for (const s of sockets) s.disconnect();
  });
});

describe("admission control", () => {
  // No line to wait in: past the bucket, refused at once.
  const f = useRoomFixture(
    { ...NO_METRICS_CACHE, COACHWIRE_ADMIT_RATE_PER_S: "2", COACHWIRE_ADMIT_BURST: "2", COACHWIRE_ADMIT_IN_FLIGHT_MAX: "1000", COACHWIRE_ADMIT_QUEUE_MS: "0", COACHWIRE_HANDSHAKE_FAILURES_PER_MIN: "3" },
    3,
  );

  test("handshakes past the bucket are refused UNAVAILABLE with a retry hint, before any token check, and cost the address nothing", async () => {
    const { server } = f;
    await new Promise((r) => setTimeout(r, 1100)); // a full bucket
    const [first, second] = [server.rawSocket({ token: await server.tokenFor(f.students[0]!) }), server.rawSocket({ token: await server.tokenFor(f.students[1]!) })];
    await Promise.all([connectRaw(first), connectRaw(second)]);
    // The bucket is empty now: refused whatever the token (a garbage one included: no token is looked at).
    const refusedBefore = await metric(server, "coachwire_admission_refused_total");
    const turns: number[] = [];
    for (const token of [await server.tokenFor(f.students[2]!), "garbage", "garbage", "garbage", "garbage"]) {
      const refusal = await handshakeRefusal(server.rawSocket({ token }));
      assert.equal(refusal.code, "UNAVAILABLE");
      assert.equal(refusal.retryable, true);
      // A window of one bucket interval (2 a second: 500 ms) around a turn of its own.
      assert.equal(refusal.retryWindowMs, 500);
      turns.push(refusal.retryAfterMs!);
    }
    // Each refused client is given the next turn, one bucket interval after the one before it
    // (less the little time that passed between the two refusals): they come back spread out.
    for (let i = 1; i < turns.length; i++) {
      const step = turns[i]! - turns[i - 1]!;
      assert.ok(step > 250 && step <= 500, `turns ${turns.join(", ")}`);
    }
    assert.equal((await metric(server, "coachwire_admission_refused_total")) - refusedBefore, 5);
    // Five refusals on an address allowed 3 failed handshakes a minute: none was charged to it.
    await new Promise((r) => setTimeout(r, 600));
    await connectRaw(server.rawSocket({ token: await server.tokenFor(f.students[2]!) }));
    first.disconnect();
    second.disconnect();
  });

  test("SDK clients refused by admission come back when told and all connect", async () => {
    const { server, roomId } = f;
    await new Promise((r) => setTimeout(r, 1100));
    const refusedBefore = await metric(server, "coachwire_admission_refused_total");
    const clients = await Promise.all([...f.students, f.coach, ...f.students].map((u) => server.client(u)));
    await Promise.all(clients.map((c) => c.join(roomId)));
    assert.ok((await metric(server, "coachwire_admission_refused_total")) > refusedBefore, "some were refused first");
    for (const c of clients) c.close();
  });
});

describe("admission control: handshakes in flight", () => {
  const f = useRoomFixture({ ...NO_METRICS_CACHE, COACHWIRE_ADMIT_IN_FLIGHT_MAX: "1" }, 2);

  test("an admitted connection counts until its first join is answered; the next one waits its turn in line, then is admitted", async () => {
    const { server, roomId } = f;
    const first = server.rawSocket({ token: await server.tokenFor(f.students[0]!) });
    await connectRaw(first);
    const second = server.rawSocket({ token: await server.tokenFor(f.students[1]!) });
    let secondConnected = false;
    const waiting = connectRaw(second).then(() => (secondConnected = true));
    await eventually(async () => (await metric(server, "coachwire_admission_queued")) === 1, "the second handshake in line");
    assert.equal(secondConnected, false);
    const joined = (await first.timeout(5000).emitWithAck("room:join" as never, { roomId } as never)) as Ack;
    assert.equal(joined.ok, true);
    await waiting;
    assert.equal(await metric(server, "coachwire_admission_refused_total"), 0, "it waited; nobody was refused");
    first.disconnect();
    second.disconnect();
  });
});

describe("admission control: a line too long", () => {
  const f = useRoomFixture({ ...NO_METRICS_CACHE, COACHWIRE_ADMIT_IN_FLIGHT_MAX: "1", COACHWIRE_ADMIT_QUEUE_MS: "0" }, 2);

  test("without room in line, the next handshake is refused UNAVAILABLE (in flight) with a hint", async () => {
    const { server, roomId } = f;
    const first = server.rawSocket({ token: await server.tokenFor(f.students[0]!) });
    await connectRaw(first);
    const refusal = await handshakeRefusal(server.rawSocket({ token: await server.tokenFor(f.students[1]!) }));
    assert.equal(refusal.code, "UNAVAILABLE");
    assert.ok(refusal.retryWindowMs! >= 250);
    assert.equal(await metric(server, "coachwire_admission_refused_total", 'cause="in-flight"'), 1);
    await first.timeout(5000).emitWithAck("room:join" as never, { roomId } as never);
    const second = server.rawSocket({ token: await server.tokenFor(f.students[1]!) });
    await connectRaw(second);
    first.disconnect();
    second.disconnect();
  });
});

describe("retry hints on refusals", () => {
  const f = useRoomFixture({ COACHWIRE_SEND_BURST: "3", COACHWIRE_SEND_RATE_PER_S: "1", COACHWIRE_HTTP_RATE_PER_MIN: "2" }, 1);

  test("a request over the user's budget is RATE_LIMITED with a hint no sooner than the bucket refills", async () => {
    const { server, roomId } = f;
    const socket = server.rawSocket({ token: await server.tokenFor(f.students[0]!) });
    await connectRaw(socket);
    const answers = (await Promise.all(
      Array.from({ length: 6 }, () => socket.timeout(5000).emitWithAck("room:history" as never, { roomId } as never)),
    )) as Array<Ack>;
    const refused = answers.filter((a): a is { ok: false; error: WireError } => !a.ok);
    assert.ok(refused.length >= 2, `${refused.length} refused`);
    for (const { error } of refused) {
      assert.equal(error.code, "RATE_LIMITED");
      assert.ok(error.retryAfterMs! > 0 && error.retryAfterMs! <= 1000 && error.retryWindowMs! > 0, JSON.stringify(error));
    }
    socket.disconnect();
  });

  test("a REST 429 carries the hint in its body and a Retry-After header", async () => {
    const { server } = f;
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) last = await fetch(`${server.url}/api/terms`);
    assert.equal(last!.status, 429);
    const body = (await last!.json()) as { error: WireError };
    assert.equal(body.error.code, "RATE_LIMITED");
    assert.ok(body.error.retryAfterMs! > 0 && body.error.retryWindowMs! > 0);
    assert.equal(last!.headers.get("retry-after"), String(Math.max(1, Math.ceil(body.error.retryAfterMs! / 1000))));
  });
});

describe("verified tokens", () => {
  const f = useRoomFixture(NO_METRICS_CACHE, 1);

  test("a token verified once is answered from memory at the next handshake, until it is revoked", async () => {
    const { server } = f;
    const student = f.students[0]!;
    const login = (await (
      await fetch(`${server.url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: student.email, password: student.password }) })
    ).json()) as { accessToken: string };
    const first = server.rawSocket({ token: login.accessToken });
    await connectRaw(first);
    const hits = await metric(server, "coachwire_token_cache_total", 'result="hit"');
    const second = server.rawSocket({ token: login.accessToken });
    await connectRaw(second);
    assert.equal((await metric(server, "coachwire_token_cache_total", 'result="hit"')) - hits, 1, "the second handshake was a cache hit");
    const out = await fetch(`${server.url}/api/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${login.accessToken}`, "content-type": "application/json" }, body: "{}" });
    assert.equal(out.status, 200);
    assert.equal((await handshakeRefusal(server.rawSocket({ token: login.accessToken }))).code, "TOKEN_REVOKED", "a revoked token is not answered from memory");
    first.disconnect();
    second.disconnect();
  });
});

describe("drain", () => {
  const f = useRoomFixture({ COACHWIRE_DRAIN_SPREAD_MS: "2000" }, 30);

  test("a drain tells every client to move, spread out, each with a short window to come back in", async () => {
    const { server, roomId } = f;
    const sockets = await Promise.all(
      f.students.map(async (s) => {
        const socket = server.rawSocket({ token: await server.tokenFor(s) });
        await connectRaw(socket);
        await socket.timeout(5000).emitWithAck("room:join" as never, { roomId } as never);
        return socket;
      }),
    );
    const notices: Array<{ at: number; notice: unknown }> = [];
    for (const s of sockets) s.on("session:closing", (notice: unknown) => notices.push({ at: performance.now(), notice }));
    await server.drain();
    await eventually(() => notices.length === sockets.length, "every client told to move");
    for (const { notice } of notices) assert.deepEqual(notice, { reason: "server draining", reconnect: true, retryAfterMs: 0, retryWindowMs: 500 });
    // 30 sockets at the drain's least rate (200 a second) take 150 ms: not all in one instant.
    const span = notices.at(-1)!.at - notices[0]!.at;
    assert.ok(span >= 100, `told within ${span.toFixed(0)} ms`);
  });
});
