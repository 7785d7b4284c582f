import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { Redis } from "ioredis";
import type { CoachClient } from "../protocol/client.ts";
import type { CoachingEventBodies, TaskBoard } from "../protocol/coaching.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { applyToBoard, type ReadMarkNotice } from "../protocol/live-board.ts";
import { openPostgres, PG_URL, postgresAvailable, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { deleteKeys, freshPrefix, REDIS_URL, redisAvailable } from "./support/redis-keyspace.ts";
import { request, type Ack } from "./support/bad-input-table.ts";
import { connectRaw, eventually, startTestServer, type TestServer } from "./support/server.ts";

// Coaching across two server processes: two servers in this test process on one PostgreSQL
// schema (each with its own pool) and one Redis key prefix, as two processes of a deployment
// share them. A change made through server A must reach the clients and the membership cache
// of server B: removals, mutes, tasks, progress, read marks. Waits poll; nothing is timed.
//
// Both servers use the node:http transport: Socket.IO's uWS support patches socket.io-adapter's
// Adapter prototype for the whole process with the App last attached, so two live uWS servers
// in one process would publish each other's broadcasts (a one-process-per-server assumption;
// the HAProxy cluster suite covers uWS across real processes).

async function missingServices(): Promise<string | undefined> {
  if (!(await postgresAvailable())) return `PostgreSQL is not reachable at ${PG_URL}`;
  if (!(await redisAvailable())) return `Redis is not reachable at ${REDIS_URL}`;
  return undefined;
}
const skip = (await missingServices()) ?? false;

/** A request refused with this catalog code (as the SDK rejects it). */
const refusedWith = (code: string) => (err: unknown) => err instanceof Error && err.message.startsWith(`${code}:`);

/** Collects the room events the SDK delivers to a client for one room. */
function record(client: CoachClient, roomId: string): RoomEvent[] {
  const seen: RoomEvent[] = [];
  client.on("event", (e) => e.roomId === roomId && seen.push(e));
  return seen;
}

const bodyOf = <K extends keyof CoachingEventBodies>(event: RoomEvent, _kind: K) => event.body as CoachingEventBodies[K];

describe("coaching across two server processes (PostgreSQL + Redis)", { skip }, () => {
  let tdb: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let prefix: string;

  beforeEach(async () => {
    tdb = await openPostgres();
    prefix = freshPrefix();
    const env = {
      REDIS_URL,
      COACHWIRE_REDIS_PREFIX: prefix,
      COACHWIRE_TRANSPORT: "node",
      COACHWIRE_READ_FLUSH_MS: "20",
      COACHWIRE_SEND_RATE_PER_S: "1000",
      COACHWIRE_SEND_BURST: "1000",
      COACHWIRE_HTTP_RATE_PER_MIN: "1000000",
      COACHWIRE_TYPING_THROTTLE_MS: "0",
    };
    a = await startTestServer(tdb.db, env);
    b = await startTestServer(await tdb.openAnother(), env);
  });
  afterEach(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await tdb?.drop();
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await deleteKeys(redis, prefix).finally(() => redis.quit());
  });

  /** A REST call to `server` as `user`; resolves with the status and the JSON body. */
  async function rest(server: TestServer, user: TestUser, method: string, path: string, body?: unknown) {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${await server.tokenFor(user)}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** The chat texts a user has stored in the room, in seq order. */
  async function chatsOf(roomId: string, user: TestUser): Promise<string[]> {
    const res = await tdb.db.query<{ body: { text: string } }>(
      "SELECT body FROM room_events WHERE room_id = $1 AND sender_id = $2 AND kind = 'chat' ORDER BY seq",
      [roomId, user.id],
    );
    return res.rows.map((r) => r.body.text);
  }

  test("a student on B removed through A's REST API is told, hears nothing more, and B refuses their sends", async () => {
    const coach = await createUser(tdb.db, "coach");
    const [leaving, staying] = [await createUser(tdb.db), await createUser(tdb.db)];
    const roomId = await createRoom(tdb.db, [coach, leaving, staying]);
    const coachOnA = await a.client(coach);
    await coachOnA.join(roomId);
    const [leavingOnB, stayingOnB] = [await b.client(leaving), await b.client(staying)];
    await leavingOnB.join(roomId);
    await stayingOnB.join(roomId);
    const stayingEvents = record(stayingOnB, roomId);
    // B's room actor now holds the member list with the student in it (and proves it by accepting the send).
    const hello = await leavingOnB.send(roomId, { text: "merhaba" });
    await eventually(() => coachOnA.cursor(roomId) === hello.seq, "the coach on A heard the student on B");

    const removed: string[] = [];
    leavingOnB.on("removed", (id) => removed.push(id));
    // Straight off the wire, past the SDK (which forgets the room on room:removed).
    let told = false;
    const eventsAfterRemoval: RoomEvent[] = [];
    leavingOnB.socket.on("room:removed", () => (told = true));
    leavingOnB.socket.on("room:event", (e) => told && e.roomId === roomId && eventsAfterRemoval.push(e));

    const res = await rest(a, coach, "DELETE", `/api/rooms/${roomId}/members/${leaving.id}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await eventually(() => removed.length > 0, "the student on B got room:removed");
    assert.deepEqual(removed, [roomId]);
    await eventually(
      () => stayingEvents.some((e) => e.kind === "member.removed" && bodyOf(e, "member.removed").userId === leaving.id),
      "the room (on B) saw member.removed",
    );

    // The room goes on: a message from A reaches the student who stayed on B...
    const later = await coachOnA.send(roomId, { text: "devam ediyoruz" });
    await eventually(() => stayingOnB.cursor(roomId) === later.seq, "the student who stayed on B got the next message");
    // ...and B, whose cached members were dropped, refuses the removed student's send. Its ack
    // comes back on the same connection after anything B published to that socket before it.
    await assert.rejects(leavingOnB.send(roomId, { text: "hâlâ buradayım" }), refusedWith("NOT_A_MEMBER"));
    assert.deepEqual(eventsAfterRemoval, [], "no room event reached the removed student after room:removed");
    await assert.rejects(leavingOnB.join(roomId), refusedWith("NOT_A_MEMBER"), "nor can they join again");
    assert.deepEqual(await chatsOf(roomId, leaving), ["merhaba"]);
  });

  test("a student on B muted through A gets MUTED on B, and after an unmute through A can send again", async () => {
    const coach = await createUser(tdb.db, "coach");
    const student = await createUser(tdb.db);
    const roomId = await createRoom(tdb.db, [coach, student]);
    const coachOnA = await a.client(coach);
    await coachOnA.join(roomId);
    const coachEvents = record(coachOnA, roomId);
    const studentOnB = await b.client(student);
    const studentEvents = record(studentOnB, roomId);
    await studentOnB.join(roomId);
    await studentOnB.send(roomId, { text: "önce" }); // B caches the members: unmuted
    const mutedNotices = () =>
      studentEvents.filter((e) => e.kind === "member.muted" && bodyOf(e, "member.muted").userId === student.id).map((e) => bodyOf(e, "member.muted").muted);

    const mute = await rest(a, coach, "POST", `/api/rooms/${roomId}/members/${student.id}/mute`, { muted: true });
    assert.equal(mute.status, 200, JSON.stringify(mute.body));
    await eventually(() => mutedNotices().length === 1, "the student on B heard they were muted");
    await assert.rejects(studentOnB.send(roomId, { text: "susturuldum mu?" }), refusedWith("MUTED"));
    // Muted members still read.
    const head = studentOnB.cursor(roomId)!;
    assert.equal(await studentOnB.markRead(roomId, head), head);

    const unmute = await rest(a, coach, "POST", `/api/rooms/${roomId}/members/${student.id}/mute`, { muted: false });
    assert.equal(unmute.status, 200, JSON.stringify(unmute.body));
    await eventually(() => mutedNotices().length === 2, "the student on B heard they were unmuted");
    assert.deepEqual(mutedNotices(), [true, false]);
    const back = await studentOnB.send(roomId, { text: "sonra" });
    await eventually(() => coachEvents.some((e) => e.seq === back.seq), "the coach on A got the message sent after the unmute");
    assert.deepEqual(await chatsOf(roomId, student), ["önce", "sonra"]);
  });

  test("a student on B muted through A is no longer heard typing once they see the mute; unmuted, they are again", async () => {
    const coach = await createUser(tdb.db, "coach");
    const student = await createUser(tdb.db);
    const roomId = await createRoom(tdb.db, [coach, student]);
    const coachOnA = await a.client(coach);
    await coachOnA.join(roomId);
    const heard: string[] = [];
    coachOnA.on("typing", (t) => t.roomId === roomId && heard.push(t.userId));
    const studentOnB = await b.client(student);
    const mutes: boolean[] = [];
    studentOnB.on("event", (e) => e.kind === "member.muted" && mutes.push(bodyOf(e, "member.muted").muted));
    await studentOnB.join(roomId);
    // Sent as is (the SDK's typing is volatile on the client too); quiet before each, since a
    // typing that meets a busy transport is dropped by design and would prove nothing.
    const type = async () => {
      await new Promise((r) => setTimeout(r, 200));
      studentOnB.socket.emit("typing", { roomId });
    };

    await type();
    await eventually(() => heard.length === 1, "the coach on A hears the student on B typing");
    assert.equal((await rest(a, coach, "POST", `/api/rooms/${roomId}/members/${student.id}/mute`, { muted: true })).status, 200);
    await eventually(() => mutes.length === 1, "the student on B saw the mute");
    await type();
    await type();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await rest(a, coach, "POST", `/api/rooms/${roomId}/members/${student.id}/mute`, { muted: false })).status, 200);
    await eventually(() => mutes.length === 2, "the student on B saw the unmute");
    await type();
    await eventually(() => heard.length >= 2, "the coach on A hears them again");
    assert.deepEqual(heard, [student.id, student.id], "nothing was relayed while muted");
  });

  test("a task created on A reaches students on B live, and their progress through B reaches the coach's board on A", async () => {
    const coach = await createUser(tdb.db, "coach");
    const students = [await createUser(tdb.db), await createUser(tdb.db)];
    const roomId = await createRoom(tdb.db, [coach, ...students]);
    const coachOnA = await a.client(coach);
    await coachOnA.join(roomId);
    const studentsOnB = [await b.client(students[0]!), await b.client(students[1]!)];
    const studentEvents = studentsOnB.map((c) => record(c, roomId));
    for (const c of studentsOnB) await c.join(roomId);

    const created = await coachOnA.createTask({ roomId, title: "40 türev sorusu", subjectId: "mat-turev", target: 40, dueAt: Date.now() + 3_600_000 });
    const taskId = created.task.id;
    assert.deepEqual([...created.task.assignees].sort(), students.map((s) => s.id).sort());
    for (const [i, events] of studentEvents.entries()) {
      await eventually(
        () => events.some((e) => e.kind === "task.created" && bodyOf(e, "task.created").task.id === taskId),
        `student ${i} on B got task.created live`,
      );
    }
    const live = studentEvents.map((events) => events.find((e) => e.kind === "task.created")!);
    for (const event of live) assert.equal(event.seq, created.seq);

    let board: TaskBoard = await coachOnA.board(taskId);
    assert.deepEqual({ ...board.funnel }, { assigned: 2, delivered: 0, seen: 0, started: 0, done: 0, late: 0, overdue: 0 });
    coachOnA.on("event", (e) => (board = applyToBoard(board, e)));
    coachOnA.on("read", (mark: ReadMarkNotice) => (board = applyToBoard(board, mark)));

    const [first, second] = studentsOnB as [CoachClient, CoachClient];
    await first.markSeen(taskId);
    await first.reportProgress({ taskId, correct: 25, wrong: 5 });
    await first.reportProgress({ taskId, solved: 10 });
    await second.reportProgress({ taskId, solved: 5, state: "started" });

    const expected = new Map([
      [students[0]!.id, { state: "done", solved: 40 }],
      [students[1]!.id, { state: "started", solved: 5 }],
    ]);
    await eventually(
      () => board.rows.every((r) => r.state === expected.get(r.userId)!.state && r.solved === expected.get(r.userId)!.solved),
      "the coach's live board on A shows every report made through B",
    );
    assert.deepEqual({ ...board.funnel }, { assigned: 2, delivered: 2, seen: 2, started: 2, done: 1, late: 0, overdue: 0 });
    const stored = await coachOnA.board(taskId);
    const row = (r: TaskBoard["rows"][number]) => [r.userId, r.state, r.solved, r.correct, r.wrong, r.late];
    assert.deepEqual(board.rows.map(row), stored.rows.map(row), "the live board matches what the server stored");
    assert.deepEqual(board.funnel, stored.funnel);
  });

  test("read marks set through B reach the coach on A as `read`; a mark that does not move is not broadcast", async () => {
    const coach = await createUser(tdb.db, "coach");
    const students = [await createUser(tdb.db), await createUser(tdb.db)];
    const roomId = await createRoom(tdb.db, [coach, ...students]);
    const coachOnA = await a.client(coach);
    await coachOnA.join(roomId);
    const reads: ReadMarkNotice[] = [];
    coachOnA.on("read", (mark) => reads.push(mark));
    const [first, second] = [await b.client(students[0]!), await b.client(students[1]!)];
    await first.join(roomId);
    await second.join(roomId);

    const m1 = await coachOnA.send(roomId, { text: "okudunuz mu?" });
    const m2 = await coachOnA.send(roomId, { text: "sayfa 42" });
    await eventually(() => first.cursor(roomId) === m2.seq && second.cursor(roomId) === m2.seq, "both students on B have both messages");

    assert.equal(await first.markRead(roomId, m2.seq), m2.seq);
    await eventually(() => reads.length >= 1, "the coach on A got the first read mark");
    assert.deepEqual(reads, [{ roomId, userId: students[0]!.id, seq: m2.seq }]);

    // Marks only move forward: an older mark answers the stored one and announces nothing. The
    // second student's mark, flushed after it and through the same channel, is the fence.
    assert.equal(await first.markRead(roomId, m1.seq), m2.seq);
    assert.equal(await second.markRead(roomId, m1.seq), m1.seq);
    await eventually(() => reads.length >= 2, "the coach on A got the second student's read mark");
    assert.deepEqual(reads, [
      { roomId, userId: students[0]!.id, seq: m2.seq },
      { roomId, userId: students[1]!.id, seq: m1.seq },
    ]);
    const { room } = (await rest(a, students[1]!, "GET", `/api/rooms/${roomId}`)).body as { room: { lastReadSeq: number; unread: number } };
    assert.deepEqual([room.lastReadSeq, room.unread], [m1.seq, m2.seq - m1.seq], "A reads the mark B stored");
  });
  test("a room:join on B racing the student's removal through A never leaves the removed student subscribed (360 races)", async (t) => {
    const coach = await createUser(tdb.db, "coach");
    const students = await Promise.all(Array.from({ length: 6 }, () => createUser(tdb.db)));
    const roomId = await createRoom(tdb.db, [coach, ...students]);
    const sockets = await Promise.all(
      students.map(async (s) => {
        const socket = b.rawSocket({ token: await b.tokenFor(s) });
        await connectRaw(socket);
        return socket;
      }),
    );
    const subscribedOnB = (socketId: string) => b.io.of("/").adapter.rooms.get(roomId)?.has(socketId) ?? false;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const outcomes = { joined: 0, refused: 0 };
    // Not a timing assertion: how long removals took so far, only to place the next joins.
    // (The removals of one round queue behind each other on A, so each student has its own.)
    const took = students.map((): number[] => []);
    const typical = (i: number) => (took[i]!.length === 0 ? 20 : [...took[i]!].sort((x, y) => x - y)[Math.floor(took[i]!.length / 2)]!);
    for (let round = 0; round < 60; round++) {
      // Everyone back in (as another process would add them), then each removal through A races
      // that student's join on B, the join landing anywhere from before the removal's commit to
      // after B heard of it.
      for (const s of students) {
        await tdb.db.query("INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, 'student') ON CONFLICT DO NOTHING", [roomId, s.id]);
      }
      await Promise.all(
        students.map(async (student, i) => {
          const socket = sockets[i]!;
          const started = performance.now();
          const removal = rest(a, coach, "DELETE", `/api/rooms/${roomId}/members/${student.id}`).finally(() => took[i]!.push(performance.now() - started));
          // Aim the join at the moment the removal commits, a little before its answer comes back.
          await sleep((0.5 + Math.random() * 0.6) * typical(i));
          const joined: Ack = await request(socket, "room:join", [{ roomId }]);
          const removed = await removal;
          assert.equal(removed.status, 200, JSON.stringify(removed.body));
          if (joined.ok) outcomes.joined++;
          else {
            assert.equal(joined.error.code, "NOT_A_MEMBER", JSON.stringify(joined));
            outcomes.refused++;
          }
          await eventually(() => !subscribedOnB(socket.id!), `round ${round}: removed student ${i} is no longer subscribed on B`, 3000);
        }),
      );
    }
    t.diagnostic(`joins answered before the removal: ${outcomes.joined}, refused: ${outcomes.refused}`);
    // Still unsubscribed once everything has settled (no late subscribe after the sweep).
    await sleep(100);
    for (const [i, socket] of sockets.entries()) assert.equal(subscribedOnB(socket.id!), false, `student ${i} is not subscribed on B`);
  });

  test("B refuses a removed or muted member's send from the database, whatever its membership cache still says", async () => {
    const coach = await createUser(tdb.db, "coach");
    const [removedStudent, mutedStudent] = [await createUser(tdb.db), await createUser(tdb.db)];
    const roomId = await createRoom(tdb.db, [coach, removedStudent, mutedStudent]);
    const [removedOnB, mutedOnB] = [await b.client(removedStudent), await b.client(mutedStudent)];
    await removedOnB.join(roomId);
    await mutedOnB.join(roomId);
    // Warm B's membership cache: both are unmuted members there.
    await removedOnB.send(roomId, { text: "önce" });
    await mutedOnB.send(roomId, { text: "önce" });
    // The changes as another process commits them, before its notice reaches B (here: never).
    await tdb.db.query("DELETE FROM memberships WHERE room_id = $1 AND user_id = $2", [roomId, removedStudent.id]);
    await tdb.db.query("UPDATE memberships SET muted = true WHERE room_id = $1 AND user_id = $2", [roomId, mutedStudent.id]);

    await assert.rejects(removedOnB.send(roomId, { text: "sonra" }), refusedWith("NOT_A_MEMBER"));
    await assert.rejects(mutedOnB.send(roomId, { text: "sonra" }), refusedWith("MUTED"));
    assert.deepEqual(await chatsOf(roomId, removedStudent), ["önce"]);
    assert.deepEqual(await chatsOf(roomId, mutedStudent), ["önce"]);
  });
});
