import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ERROR_CATALOG, type ErrorCode, type WireError } from "../protocol/errors.ts";
import type { ResumeResult, RoomEvent, RoomResumeOutcome } from "../protocol/events.ts";
import { MAX_RESUME_ROOMS, roomsResumeSchema, type RoomsResumeRequest } from "../protocol/schemas.ts";
import { RequestError } from "../protocol/sdk/requests.ts";
import { RoomStream } from "../protocol/sdk/room-stream.ts";
import { resumeRooms, type ResumeContext } from "../protocol/sdk/rooms-resume.ts";

// Getting back into every room after a reconnect, without a server: the requests it sends, what
// each room's answer does to its stream, and when it asks again (on a clock that moves only when
// it sleeps).

const event = (roomId: string, seq: number): RoomEvent => ({ roomId, seq, kind: "chat", senderId: "u1", clientId: `c${seq}`, body: { text: `m${seq}` }, createdAt: 1_700_000_000_000 + seq });
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const wire = (code: ErrorCode, hint?: { retryAfterMs: number; retryWindowMs: number }): WireError => ({ code, message: ERROR_CATALOG[code].message, retryable: ERROR_CATALOG[code].retryable, ...hint });

/** A room joined again: the events after `since` up to `head`, as the server answers them. */
const joined = (roomId: string, since: number, head: number, truncated = false): RoomResumeOutcome => ({
  roomId,
  ok: true,
  room: { id: roomId, name: roomId, lastSeq: head },
  members: [],
  lastReadSeq: 0,
  events: range(since + 1, head).map((seq) => event(roomId, seq)),
  truncated,
  online: [],
});
const refused = (roomId: string, error: WireError): RoomResumeOutcome => ({ roomId, ok: false, error });

/**
 * A client holding ready streams (room id → cursor) whose `rooms:resume` answers come from
 * `answer`, called with each request in turn; records requests, sleeps and deliveries.
 */
function client(cursors: Record<string, number>, answer: (req: RoomsResumeRequest, n: number) => ResumeResult | Error) {
  const delivered: RoomEvent[] = [];
  const pages: { roomId: string; after: number }[] = [];
  const streams = new Map<string, RoomStream>();
  const stream = (roomId: string, since: number) =>
    new RoomStream(
      {
        deliver: (e) => delivered.push(e),
        pageAfter: (after) => (pages.push({ roomId, after }), Promise.resolve({ events: [], hasMore: false })),
        canFill: () => true,
        timer: { set: () => 0, clear: () => {} },
        gapWaitMs: 100,
      },
      since,
    );
  for (const [roomId, since] of Object.entries(cursors)) streams.set(roomId, stream(roomId, since));
  const requests: RoomsResumeRequest[] = [];
  const sleeps: number[] = [];
  const resumed: string[] = [];
  let connected = true;
  const ctx: ResumeContext = {
    stream: (roomId) => streams.get(roomId),
    request: async (req) => {
      assert.equal(roomsResumeSchema.safeParse(req).success, true, "every request is valid for the server's schema");
      requests.push(structuredClone(req));
      const res = answer(req, requests.length - 1);
      if (res instanceof Error) throw res;
      return res;
    },
    lasts: () => connected,
    resumed: (roomId) => resumed.push(roomId),
    random: () => 0.5,
    sleep: async (ms) => void sleeps.push(ms),
  };
  return {
    ctx,
    streams,
    requests,
    sleeps,
    resumed,
    pages,
    delivered: (roomId: string) => delivered.filter((e) => e.roomId === roomId).map((e) => e.seq),
    drop: () => (connected = false),
    rejoinFresh: (roomId: string) => streams.set(roomId, stream(roomId, 0)),
  };
}

describe("resumeRooms", () => {
  test("one request names every room with its cursor; each answer goes to its room's stream in order", async () => {
    const c = client({ a: 3, b: 0, c: 10 }, (req) => ({
      // Answered in another order than asked: outcomes are matched by room id.
      rooms: [joined("c", 10, 10), joined("a", 3, 6), joined("b", 0, 2, true)],
    }));
    await resumeRooms(["a", "b", "c"], c.ctx);
    assert.deepEqual(c.requests, [{ rooms: [{ roomId: "a", since: 3 }, { roomId: "b", since: 0 }, { roomId: "c", since: 10 }] }]);
    assert.deepEqual(c.delivered("a"), [4, 5, 6]);
    assert.deepEqual(c.delivered("b"), [1, 2]);
    assert.deepEqual(c.delivered("c"), []);
    assert.deepEqual(c.resumed, ["a", "b", "c"], "each room once, in the order asked");
    assert.equal(c.streams.get("a")!.cursor, 6);
    assert.deepEqual(c.pages, [{ roomId: "b", after: 2 }], "a truncated answer is paged on from the cursor, as after room:join");
    assert.deepEqual(c.sleeps, []);
  });

  test("a room refused for good stops; one refused retryably is asked for again, alone, after its hint", async () => {
    const c = client({ a: 1, b: 1, c: 1 }, (req, n) =>
      n === 0
        ? { rooms: [joined("a", 1, 2), refused("b", wire("NOT_A_MEMBER")), refused("c", wire("UNAVAILABLE", { retryAfterMs: 1000, retryWindowMs: 500 }))] }
        : { rooms: [joined("c", 1, 3)] },
    );
    await resumeRooms(["a", "b", "c"], c.ctx);
    assert.deepEqual(c.requests.map((r) => r.rooms), [
      [{ roomId: "a", since: 1 }, { roomId: "b", since: 1 }, { roomId: "c", since: 1 }],
      [{ roomId: "c", since: 1 }],
    ]);
    assert.deepEqual(c.sleeps, [1250], "the hint: 1000 + 0.5 · 500");
    assert.deepEqual(c.resumed, ["a", "c"]);
    assert.deepEqual(c.delivered("b"), []);
    assert.deepEqual(c.delivered("c"), [2, 3]);
  });

  test("of several rooms' hints the longest is waited", async () => {
    const c = client({ a: 0, b: 0 }, (req, n) =>
      n === 0
        ? { rooms: [refused("a", wire("RATE_LIMITED", { retryAfterMs: 300, retryWindowMs: 0 })), refused("b", wire("UNAVAILABLE", { retryAfterMs: 2000, retryWindowMs: 1000 }))] }
        : { rooms: req.rooms.map((r) => joined(r.roomId, 0, 0)) },
    );
    await resumeRooms(["a", "b"], c.ctx);
    assert.deepEqual(c.sleeps, [2500]);
    assert.deepEqual(c.requests[1]!.rooms.map((r) => r.roomId), ["a", "b"], "both again, in one request");
  });

  test("a whole request unanswered or refused retryably is sent again: the backoff without a hint, the hint with one", async () => {
    const c = client({ a: 5 }, (req, n) =>
      n === 0 ? new Error("operation has timed out") : n === 1 ? new RequestError(wire("RATE_LIMITED", { retryAfterMs: 1000, retryWindowMs: 1000 })) : n === 2 ? new RequestError(wire("UNAVAILABLE")) : { rooms: [joined("a", 5, 7)] },
    );
    await resumeRooms(["a"], c.ctx);
    assert.equal(c.requests.length, 4);
    assert.deepEqual(c.sleeps, [100, 1500, 400], "full jitter 0.5·200; the hint 1000 + 0.5·1000; full jitter 0.5·800 (attempt 2)");
    assert.deepEqual(c.delivered("a"), [6, 7]);
    assert.deepEqual(c.resumed, ["a"]);
  });

  test("a whole request refused for good stops every room in it", async () => {
    const c = client({ a: 0, b: 0 }, () => new RequestError(wire("VALIDATION_FAILED")));
    await resumeRooms(["a", "b"], c.ctx);
    assert.equal(c.requests.length, 1);
    assert.deepEqual(c.sleeps, []);
    assert.deepEqual(c.resumed, []);
  });

  test("it stops when the connection it was for ends (the next connection starts its own)", async () => {
    const c = client({ a: 0 }, () => new Error("socket has been disconnected"));
    c.ctx.sleep = async (ms) => {
      c.sleeps.push(ms);
      c.drop();
    };
    await resumeRooms(["a"], c.ctx);
    assert.equal(c.requests.length, 1, "no request after the connection ended");
    assert.equal(c.sleeps.length, 1);
  });

  test("more rooms than one request may name go in requests of at most MAX_RESUME_ROOMS", async () => {
    const ids = range(1, 2 * MAX_RESUME_ROOMS + 50).map((i) => `r${i}`);
    const c = client(Object.fromEntries(ids.map((id) => [id, 0])), (req) => ({ rooms: req.rooms.map((r) => joined(r.roomId, 0, 1)) }));
    await resumeRooms(ids, c.ctx);
    assert.deepEqual(c.requests.map((r) => r.rooms.length), [MAX_RESUME_ROOMS, MAX_RESUME_ROOMS, 50]);
    assert.deepEqual(c.requests.flatMap((r) => r.rooms.map((x) => x.roomId)), ids, "each room once, in order");
    assert.equal(c.resumed.length, ids.length);
  });

  test("a room left (or joined anew) while the request was out is not handed the answer", async () => {
    const c: ReturnType<typeof client> = client({ a: 0, b: 0 }, () => {
      c.streams.delete("a"); // left
      c.rejoinFresh("b"); // left and joined again: its own room:join answers it
      return { rooms: [joined("a", 0, 2), joined("b", 0, 2)] };
    });
    await resumeRooms(["a", "b"], c.ctx);
    assert.deepEqual(c.resumed, []);
    assert.deepEqual(c.delivered("a"), []);
    assert.deepEqual(c.delivered("b"), []);
  });
});
