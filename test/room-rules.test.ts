import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CoachClient } from "../protocol/client.ts";
import { ERROR_CATALOG, type ErrorCode } from "../protocol/errors.ts";
import { request } from "./support/bad-input-table.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { connectRaw, eventually, startTestServer, type TestServer } from "./support/server.ts";

// The room rules docs/api.md states, held against the server: who may remove a coach (and that
// a room always keeps one), 1:1 rooms that take no third member, and `typing` — dropped for a
// muted member once the mute is seen, throttled per user and room (not per socket), and
// charged to the user's request budget. The cluster suite checks the mute across processes.

const LIMITS = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_SEND_RATE_PER_S: "10000", COACHWIRE_SEND_BURST: "10000" };
/**
 * Some tests start a second server (other limits) in this process, so every server here uses
 * node:http: Socket.IO's uWS support patches the adapter for the whole process (see coaching-cluster).
 */
const SECOND_SERVER = { COACHWIRE_TRANSPORT: "node" };
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const driver of await availableDrivers()) {
  describe(`room rules (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;

    before(async () => {
      tdb = await openTestDatabase(driver);
      server = await startTestServer(tdb.db, { ...LIMITS, ...SECOND_SERVER, COACHWIRE_TYPING_THROTTLE_MS: "0" });
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    async function call(as: TestUser, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${await server.tokenFor(as)}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: await res.json() };
    }
    async function ok(as: TestUser, method: string, path: string, body?: unknown, status = 200): Promise<Json> {
      const res = await call(as, method, path, body);
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
      return res.body;
    }
    async function refused(as: TestUser, method: string, path: string, code: ErrorCode, says?: RegExp): Promise<void> {
      const res = await call(as, method, path);
      assert.equal(res.body.error?.code, code, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.status, ERROR_CATALOG[code].status);
      if (says) assert.match(res.body.error.message, says);
    }
    const coachesOf = async (roomId: string) =>
      (await tdb.db.query<{ user_id: string }>("SELECT user_id FROM memberships WHERE room_id = $1 AND role = 'coach' ORDER BY user_id", [roomId])).rows.map(
        (r) => r.user_id,
      );

    test("a coach added by another coach is removed by the room's creator; a coach may step down; nobody removes the creator", async () => {
      const [creator, second, third] = [await createUser(tdb.db, "coach"), await createUser(tdb.db, "coach"), await createUser(tdb.db, "coach")];
      const { room } = await ok(creator, "POST", "/api/rooms", { name: "11-B" }, 201);
      await ok(creator, "POST", `/api/rooms/${room.id}/members`, { userId: second.id });
      // The mistyped id: a co-coach adds a third coach.
      await ok(second, "POST", `/api/rooms/${room.id}/members`, { userId: third.id });
      const thirdOnline = await server.client(third);
      await thirdOnline.join(room.id);
      const removed: string[] = [];
      thirdOnline.on("removed", (id) => removed.push(id));

      await refused(second, "DELETE", `/api/rooms/${room.id}/members/${third.id}`, "FORBIDDEN", /Only the room's creator/);
      await refused(second, "DELETE", `/api/rooms/${room.id}/members/${creator.id}`, "FORBIDDEN", /creator cannot be removed/);
      await ok(creator, "DELETE", `/api/rooms/${room.id}/members/${third.id}`);
      await eventually(() => removed.length === 1, "the removed coach's socket got room:removed");
      await refused(third, "GET", `/api/rooms/${room.id}`, "NOT_A_MEMBER");
      // Stepping down.
      await ok(second, "DELETE", `/api/rooms/${room.id}/members/${second.id}`);
      await refused(creator, "DELETE", `/api/rooms/${room.id}/members/${creator.id}`, "FORBIDDEN", /creator cannot be removed/);
      assert.deepEqual(await coachesOf(room.id), [creator.id]);
      const log = await ok(creator, "GET", `/api/rooms/${room.id}/events?after=0`);
      const removals = log.events.filter((e: Json) => e.kind === "member.removed").map((e: Json) => [e.senderId, e.body.userId]);
      assert.deepEqual(removals, [
        [creator.id, third.id],
        [second.id, second.id],
      ]);
    });

    test("without its creator among the coaches, any coach removes another, but the last coach stays", async () => {
      const [a, b] = [await createUser(tdb.db, "coach"), await createUser(tdb.db, "coach")];
      const roomId = await createRoom(tdb.db, [a, b]);
      await tdb.db.query("UPDATE rooms SET created_by = NULL WHERE id = $1", [roomId]);
      await ok(b, "DELETE", `/api/rooms/${roomId}/members/${a.id}`);
      await refused(b, "DELETE", `/api/rooms/${roomId}/members/${b.id}`, "FORBIDDEN", /at least one coach/);
      assert.deepEqual(await coachesOf(roomId), [b.id]);
    });

    test("a 1:1 room keeps its pair: its student can be removed and added back, nobody else gets in", async () => {
      const coach = await createUser(tdb.db, "coach");
      const [student, other] = [await createUser(tdb.db), await createUser(tdb.db)];
      const { room } = await ok(coach, "POST", "/api/rooms", { name: "1:1", kind: "direct", studentId: student.id }, 201);
      await refused(coach, "POST", `/api/rooms/${room.id}/join-codes`, "ROOM_FULL");
      const third = await call(coach, "POST", `/api/rooms/${room.id}/members`, { userId: other.id });
      assert.equal(third.body.error?.code, "ROOM_FULL", JSON.stringify(third.body));
      await ok(coach, "DELETE", `/api/rooms/${room.id}/members/${student.id}`);
      const back = await ok(coach, "POST", `/api/rooms/${room.id}/members`, { userId: student.id });
      assert.deepEqual(back.members.map((m: Json) => m.userId), [coach.id, student.id]);
    });

    /** A `typing` frame, sent as is (the SDK's is volatile: a client may drop it while its transport is busy). */
    const type = (client: CoachClient, roomId: string) => void client.socket.emit("typing", { roomId });

    /** Everyone's `typing` as a watcher in the room receives it. */
    function typingSeen(client: CoachClient, roomId: string): string[] {
      const seen: string[] = [];
      client.on("typing", (t) => t.roomId === roomId && seen.push(t.userId));
      return seen;
    }

    test("a muted student's typing is dropped once they see the mute, and heard again after the unmute", async () => {
      const coach = await createUser(tdb.db, "coach");
      const student = await createUser(tdb.db);
      const roomId = await createRoom(tdb.db, [coach, student]);
      const watcher = await server.client(coach);
      await watcher.join(roomId);
      const seen = typingSeen(watcher, roomId);
      const typist = await server.client(student);
      const mutes: boolean[] = [];
      typist.on("event", (e) => e.kind === "member.muted" && mutes.push((e.body as { muted: boolean }).muted));
      await typist.join(roomId);

      type(typist, roomId);
      await eventually(() => seen.length === 1, "typing before the mute");
      await ok(coach, "POST", `/api/rooms/${roomId}/members/${student.id}/mute`, { muted: true });
      await eventually(() => mutes.length === 1, "the student saw the mute");
      // Volatile: a typing that meets the watcher's transport busy (with the member.muted event) is
      // dropped anyway; wait for quiet so a relayed one would arrive and show.
      await new Promise((r) => setTimeout(r, 200));
      type(typist, roomId);
      await new Promise((r) => setTimeout(r, 100));
      type(typist, roomId);
      await new Promise((r) => setTimeout(r, 200));
      await ok(coach, "POST", `/api/rooms/${roomId}/members/${student.id}/mute`, { muted: false });
      await eventually(() => mutes.length === 2, "the student saw the unmute");
      type(typist, roomId);
      await eventually(() => seen.length >= 2, "typing after the unmute");
      assert.deepEqual(seen, [student.id, student.id], "nothing was relayed while muted");
      watcher.close();
      typist.close();
    });

    test("typing is throttled per user and room, whatever the number of sockets", async () => {
      const throttled = await startTestServer(tdb.db, { ...LIMITS, ...SECOND_SERVER, COACHWIRE_TYPING_THROTTLE_MS: "60000" });
      try {
        const [coach, student, classmate] = [await createUser(tdb.db, "coach"), await createUser(tdb.db), await createUser(tdb.db)];
        const [roomA, roomB] = [await createRoom(tdb.db, [coach, student, classmate]), await createRoom(tdb.db, [coach, student])];
        const watcher = await throttled.client(coach);
        await watcher.join(roomA);
        await watcher.join(roomB);
        const [seenA, seenB] = [typingSeen(watcher, roomA), typingSeen(watcher, roomB)];
        const tabs = [await throttled.client(student), await throttled.client(student), await throttled.client(student)];
        for (const tab of tabs) {
          await tab.join(roomA);
          await tab.join(roomB);
        }
        const fence = await throttled.client(classmate);
        await fence.join(roomA);
        // `typing` goes out volatile: one the watcher's transport is busy for is dropped. Let the
        // joins' presence notices go out first, and send one room at a time.
        await new Promise((r) => setTimeout(r, 200));
        for (const tab of tabs) type(tab, roomA);
        await eventually(() => seenA.length >= 1, "the first typing in room A");
        for (const tab of tabs) type(tab, roomB);
        await eventually(() => seenB.length >= 1, "the first typing in room B");
        // A classmate's typing, sent after all of them, is the fence: once it is in, every tab's was handled.
        for (const tab of tabs) type(tab, roomA);
        await new Promise((r) => setTimeout(r, 100));
        type(fence, roomA);
        await eventually(() => seenA.includes(classmate.id), "the classmate's typing");
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(seenA, [student.id, classmate.id], "one typing from the student in room A across three tabs");
        assert.deepEqual(seenB, [student.id], "and one in room B");
      } finally {
        await throttled.close();
      }
    });

    test("every typing frame is charged to the user's request budget", async () => {
      const tight = await startTestServer(tdb.db, { ...SECOND_SERVER, COACHWIRE_SEND_RATE_PER_S: "1", COACHWIRE_SEND_BURST: "5" });
      try {
        const [coach, student] = [await createUser(tdb.db, "coach"), await createUser(tdb.db)];
        const roomId = await createRoom(tdb.db, [coach, student]);
        const socket = tight.rawSocket({ token: await tight.tokenFor(student) });
        await connectRaw(socket);
        const joined = await request(socket, "room:join", [{ roomId }]);
        assert.equal(joined.ok, true, JSON.stringify(joined));
        for (let i = 0; i < 10; i++) socket.emit("typing", { roomId });
        const after = await request(socket, "room:history", [{ roomId, limit: 1 }]);
        assert.equal(after.ok, false, JSON.stringify(after));
        assert.equal(!after.ok && after.error.code, "RATE_LIMITED");
        socket.disconnect();
      } finally {
        await tight.close();
      }
    });
  });
}
