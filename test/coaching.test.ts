import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CoachingEventBodies, TaskBoard } from "../protocol/coaching.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { applyToBoard } from "../protocol/live-board.ts";
import type { CoachClient } from "../protocol/client.ts";
import { openTestDatabase, availableDrivers, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

/**
 * The coaching day end to end, with real socket.io clients: a coach gives a room of students a
 * task; their progress reaches the coach's board live and in order; a resent report counts
 * once; a student who was away gets the task and progress events on reconnect; read marks and
 * unread counts survive reconnects. Runs on every available driver (PostgreSQL and PGlite).
 */

for (const driver of await availableDrivers()) {
  describe(`coaching: tasks, live progress, receipts (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    let coach: TestUser;
    let students: TestUser[];
    let roomId: string;

    before(async () => {
      tdb = await openTestDatabase(driver);
      server = await startTestServer(tdb.db, { COACHWIRE_READ_FLUSH_MS: "20" });
      coach = await createUser(tdb.db, "coach");
      students = [await createUser(tdb.db), await createUser(tdb.db), await createUser(tdb.db)];
      roomId = await createRoom(tdb.db, [coach, ...students]);
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    /** Collects a client's delivered events for one room. */
    function record(client: CoachClient, room: string): RoomEvent[] {
      const seen: RoomEvent[] = [];
      client.on("event", (e) => e.roomId === room && seen.push(e));
      return seen;
    }

    test("each student's progress reaches the coach's board live and in order; a resent report counts once", async () => {
      const coachClient = await server.client(coach);
      const coachEvents = record(coachClient, roomId);
      await coachClient.join(roomId);
      const studentClients = await Promise.all(students.map((s) => server.client(s)));
      for (const c of studentClients) await c.join(roomId);

      const created = await coachClient.createTask({ roomId, title: "40 türev sorusu", subjectId: "mat-turev", target: 40, dueAt: Date.now() + 3_600_000 });
      assert.equal(created.duplicate, false);
      assert.deepEqual([...created.task.assignees].sort(), students.map((s) => s.id).sort());
      const taskId = created.task.id;

      let board: TaskBoard = await coachClient.board(taskId);
      assert.equal(board.funnel.assigned, 3);
      assert.equal(board.funnel.done, 0);
      coachClient.on("event", (e) => (board = applyToBoard(board, e)));
      coachClient.on("read", (mark) => (board = applyToBoard(board, mark)));

      const [a, b, c] = studentClients as [CoachClient, CoachClient, CoachClient];
      await a.markSeen(taskId);
      const first = await a.reportProgress({ taskId, opId: "a-1", correct: 8, wrong: 2 });
      assert.equal(first.progress.solved, 10);
      assert.equal(first.progress.state, "started");
      // The same operation again (a retry after a lost ack) counts once and answers the first result.
      const again = await a.reportProgress({ taskId, opId: "a-1", correct: 8, wrong: 2 });
      assert.equal(again.duplicate, true);
      assert.equal(again.seq, first.seq);
      assert.equal(again.progress.solved, 10);
      await a.reportProgress({ taskId, opId: "a-2", solved: 30 });
      await b.reportProgress({ taskId, opId: "b-1", solved: 5, state: "started" });
      await c.markSeen(taskId);

      const expected = new Map([
        [students[0]!.id, { state: "done", solved: 40 }],
        [students[1]!.id, { state: "started", solved: 5 }],
        [students[2]!.id, { state: "seen", solved: 0 }],
      ]);
      await eventually(
        () => board.rows.every((r) => r.state === expected.get(r.userId)!.state && r.solved === expected.get(r.userId)!.solved),
        "the live board shows every report",
      );
      assert.deepEqual({ ...board.funnel }, { assigned: 3, delivered: 3, seen: 3, started: 2, done: 1, late: 0, overdue: 0 });
      // The live board matches what the server stores.
      const stored = await coachClient.board(taskId);
      assert.deepEqual(
        stored.rows.map((r) => [r.userId, r.state, r.solved, r.correct, r.wrong]),
        board.rows.map((r) => [r.userId, r.state, r.solved, r.correct, r.wrong]),
      );
      assert.deepEqual(stored.funnel, board.funnel);

      // In order: the coach saw task.created, then each progress event in seq order, with no gap.
      const seqs = coachEvents.map((e) => e.seq);
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
      const progressOfA = coachEvents
        .filter((e) => e.kind === "task.progress" && (e.body as CoachingEventBodies["task.progress"]).progress.userId === students[0]!.id)
        .map((e) => (e.body as CoachingEventBodies["task.progress"]).progress);
      assert.deepEqual(progressOfA.map((p) => [p.state, p.solved]), [["seen", 0], ["started", 10], ["done", 40]]);
      const rows = await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM room_events WHERE room_id = $1 AND client_id LIKE 'task.progress:%:a-1'", [roomId]);
      assert.equal(rows.rows[0]!.n, 1, "one stored event for the resent operation");
    });

    test("a student who was away gets the task and progress events on reconnect, and unread counts follow read marks", async () => {
      const room = await createRoom(tdb.db, [coach, students[0]!, students[1]!]);
      const away = await server.client(students[1]!);
      const awayEvents = record(away, room);
      await away.join(room);
      const coachClient = await server.client(coach);
      await coachClient.join(room);
      const hello = await coachClient.send(room, { text: "günaydın" });
      await eventually(() => awayEvents.some((e) => e.seq === hello.seq), "the student got the greeting");
      assert.equal(await away.markRead(room, hello.seq), hello.seq);
      away.close();

      // While the student is away: a task and another student's progress.
      const other = await server.client(students[0]!);
      await other.join(room);
      const task = await coachClient.createTask({ roomId: room, title: "Optik tekrar", target: 10, assignees: [students[0]!.id, students[1]!.id] });
      const report = await other.reportProgress({ taskId: task.task.id, solved: 4 });

      // Unread for the away student: everything after their mark.
      const token = await server.tokenFor(students[1]!);
      const list = await fetch(`${server.url}/api/rooms`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
      const summary = list.items.find((r: { id: string }) => r.id === room);
      assert.equal(summary.lastReadSeq, hello.seq);
      assert.equal(summary.unread, report.seq! - hello.seq);

      // Back, resuming from the last seq it saw: the missed events arrive once, in order.
      const back = await server.client(students[1]!);
      const backEvents = record(back, room);
      const joined = await back.join(room, hello.seq);
      assert.equal(joined.lastReadSeq, hello.seq);
      await eventually(() => backEvents.some((e) => e.seq === report.seq), "the missed progress event arrived");
      assert.deepEqual(
        backEvents.map((e) => e.kind),
        ["task.created", "task.progress"],
      );
      assert.deepEqual(backEvents.map((e) => e.seq), [task.seq, report.seq]);

      // Marks only move forward; a mark beyond the room's last seq is refused and changes nothing.
      assert.equal(await back.markRead(room, report.seq!), report.seq);
      assert.equal(await back.markRead(room, hello.seq), report.seq);
      await assert.rejects(back.markRead(room, report.seq! + 100), (err: Error) => /SEQ_OUT_OF_RANGE/.test(err.message));
      const after = await fetch(`${server.url}/api/rooms/${room}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
      assert.equal(after.room.lastReadSeq, report.seq);
      assert.equal(after.room.unread, 0);
    });
  });
}
