import { RoomLogWriter } from "../server/log/log-transaction.ts";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { taskCreateSchema } from "../protocol/coaching-schemas.ts";
import { audit } from "../bench/audit.ts";
import type { ClientResult, UserAudit } from "../bench/client-proc.ts";
import { noCoachingRecords, taskTitle, type CoachingRecords, type ReportRecord } from "../bench/coaching-traffic.ts";
import { ProgressService } from "../server/coaching/progress-service.ts";
import { ReadMarks } from "../server/coaching/read-marks.ts";
import { TaskService } from "../server/coaching/task-service.ts";
import { appendEvents } from "../server/log/append.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser } from "./support/fixtures.ts";

// The bench's audit must catch what it exists to catch: an acked send missing from the
// database, a message stored twice, a user who skipped or repeated a seq or fell behind; and
// for the coaching traffic, a progress report missing or counted twice, a stored total that
// disagrees with the acked reports, a task missing or created twice, a read mark not stored.
// The data is written by the real services (chat append, tasks, progress, read marks) into a
// real database; the "bugs" are then made by hand.

const result = (acked: ClientResult["acked"], audits: UserAudit[], coaching: CoachingRecords = noCoachingRecords()): ClientResult => ({
  connected: audits.length,
  failed: 0,
  sends: acked.length,
  sendErrors: 0,
  deliveries: 0,
  delivery: "",
  ack: "",
  coachingAck: "",
  acked,
  coaching,
  audit: audits,
  resumeMs: [],
});

for (const driver of await availableDrivers()) {
  describe(`bench audit: chat (${driver})`, () => {
    let tdb: TestDatabase;
    let roomId: string;
    let sender: string;

    before(async () => {
      tdb = await openTestDatabase(driver);
      const coach = await createUser(tdb.db, "coach");
      sender = coach.id;
      roomId = await createRoom(tdb.db, [coach]);
      await tdb.db.transaction((tx) =>
        appendEvents(tx, [1, 2, 3].map((n) => ({ roomId, clientId: `c${n}`, kind: "chat" as const, senderId: sender, body: { text: `bench ${n}` } }))),
      );
    });
    after(() => tdb.drop());

    const user = (over: Partial<UserAudit> = {}): UserAudit => ({ userId: "u", roomId, joinedAt: 0, first: 1, last: 3, count: 3, gaps: 0, duplicates: 0, ...over });

    test("a clean run passes", async () => {
      const verdict = await audit(tdb.db, [result([[roomId, "c1", 1], [roomId, "c2", 2]], [user()])], { [roomId]: 3 });
      assert.equal(verdict.ok, true, verdict.problems.join("\n"));
      assert.equal(verdict.storedRows, 3);
      assert.equal(verdict.coaching?.tasksAcked, 0);
    });

    test("an acked send that is not stored, or stored under another seq, is lost", async () => {
      const verdict = await audit(tdb.db, [result([[roomId, "never-stored", 4], [roomId, "c3", 2]], [user()])], { [roomId]: 3 });
      assert.equal(verdict.ok, false);
      assert.equal(verdict.lost, 2);
    });

    test("a gap, a repeat, or a user behind the room's last seq fails the run", async () => {
      const verdict = await audit(
        tdb.db,
        [result([], [user({ userId: "gappy", gaps: 1 }), user({ userId: "twice", duplicates: 2 }), user({ userId: "late", last: 2 })])],
        { [roomId]: 3 },
      );
      assert.equal(verdict.ok, false);
      assert.deepEqual([verdict.usersWithGaps, verdict.duplicated, verdict.usersBehind], [1, 2, 1]);
    });

    test("the same message text stored twice counts as duplicated", async () => {
      await tdb.db.transaction((tx) => appendEvents(tx, [{ roomId, clientId: "c9", kind: "chat", senderId: sender, body: { text: "bench 1" } }]));
      const verdict = await audit(tdb.db, [result([], [user({ last: 4, count: 4 })])], { [roomId]: 4 });
      assert.equal(verdict.duplicated, 1);
      assert.equal(verdict.ok, false);
    });
  });

  describe(`bench audit: tasks, progress, read marks (${driver})`, () => {
    let tdb: TestDatabase;
    let tasks: TaskService;
    let progress: ProgressService;
    let readMarks: ReadMarks;

    before(async () => {
      tdb = await openTestDatabase(driver);
      const writer = new RoomLogWriter(tdb.db, () => {});
      tasks = new TaskService(tdb.db, writer);
      progress = new ProgressService(tdb.db, writer);
      readMarks = new ReadMarks(tdb.db, 1, () => {});
    });
    after(() => tdb.drop());

    /**
     * A room of one coach and two students, played as the bench's clients would and recorded
     * as they record it: a task of 5; Ada reports 2 (sent twice: the second answered
     * duplicate) then 3, and is done; Ben marks it seen and reports 2; both mark the room read.
     */
    async function coachingRoom() {
      const coach = await createUser(tdb.db, "coach");
      const [ada, ben] = [await createUser(tdb.db), await createUser(tdb.db)];
      const roomId = await createRoom(tdb.db, [coach, ada, ben]);
      const log: CoachingRecords = noCoachingRecords();
      const clientId = randomUUID();
      const created = await tasks.create(coach.id, taskCreateSchema.parse({ roomId, clientId, title: taskTitle(clientId), target: 5, dueAt: Date.now() + 300_000 }));
      const taskId = created.task.id;
      log.tasks.push({ roomId, coachId: coach.id, clientId, target: 5, taskId, seq: created.seq });

      const report = async (userId: string, solved: number, opId: string = randomUUID(), resend = false): Promise<ReportRecord> => {
        const res = await progress.report(userId, { taskId, opId, solved, correct: solved, wrong: 0 });
        const record = { roomId, userId, taskId, opId, solved, resend, seq: res.seq, duplicate: res.duplicate };
        log.reports.push(record);
        return record;
      };
      for (const u of [ada, ben]) {
        await progress.seen(u.id, taskId);
        log.seen.push([taskId, u.id]);
      }
      const first = await report(ada.id, 2);
      const again = await report(ada.id, 2, first.opId, true);
      assert.deepEqual([again.duplicate, again.seq], [true, first.seq], "the server answers a resend as the first send");
      await report(ada.id, 3);
      await report(ben.id, 2);
      for (const u of [ada, ben]) {
        const lastSeq = (await tdb.db.query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1", [roomId])).rows[0]!.last_seq;
        const stored = await readMarks.mark(roomId, u.id, Number(lastSeq));
        log.readsAcked++;
        log.reads.push([roomId, u.id, Number(lastSeq), stored]);
      }
      const lastSeq = Number((await tdb.db.query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1", [roomId])).rows[0]!.last_seq);
      const run = (records: CoachingRecords = log) => audit(tdb.db, [result([], [], records)], { [roomId]: lastSeq });
      return { roomId, taskId, coach, ada, ben, log, first, report, run };
    }

    test("a clean coaching run passes, and counts what it checked", async () => {
      const { run } = await coachingRoom();
      const verdict = await run();
      assert.equal(verdict.ok, true, verdict.problems.join("\n"));
      assert.deepEqual(verdict.coaching, {
        tasksAcked: 1,
        reportsAcked: 3,
        resent: 1,
        duplicatesAnswered: 1,
        storedUnacked: 0,
        assigneesChecked: 2,
        done: 1,
        readMarksChecked: 2,
        lost: 0,
        duplicated: 0,
        mismatches: 0,
      });
    });

    test("an acked progress report that is not stored is lost (and its student's total no longer adds up)", async () => {
      const { run, log, roomId, taskId, ben } = await coachingRoom();
      const missing: ReportRecord = { roomId, userId: ben.id, taskId, opId: "never-stored", solved: 1, resend: false, seq: 999, duplicate: false };
      const verdict = await run({ ...log, reports: [...log.reports, missing] });
      assert.equal(verdict.ok, false);
      assert.equal(verdict.coaching!.lost, 1);
      assert.equal(verdict.lost, 1);
      assert.equal(verdict.coaching!.mismatches, 1);
      assert.match(verdict.problems.join("\n"), /report never-stored .* acked as seq 999, stored: nothing/);
    });

    test("a progress report counted twice is duplicated: the resend answered as new, its second event, the doubled total", async () => {
      const { run, log, ben, taskId } = await coachingRoom();
      // What a server that lost the opId would do with Ben's resend: store and count it again.
      const benFirst = log.reports.find((r) => r.userId === ben.id)!;
      const doubled = await progress.report(ben.id, { taskId, opId: randomUUID(), solved: 2, correct: 2, wrong: 0 });
      const resend: ReportRecord = { ...benFirst, resend: true, seq: doubled.seq, duplicate: doubled.duplicate };
      const verdict = await run({ ...log, reports: [...log.reports, resend] });
      assert.equal(verdict.ok, false);
      assert.equal(verdict.coaching!.duplicated, 2, verdict.problems.join("\n"));
      assert.equal(verdict.coaching!.mismatches, 1);
      const problems = verdict.problems.join("\n");
      assert.match(problems, /answered as new/);
      assert.match(problems, /1 task\.progress event\(s\) stored under no report/);
      assert.match(problems, /has solved 4 stored, the acknowledged reports add up to 2/);
    });

    test("one report whose event is stored twice (under another key) is duplicated", async () => {
      const { run, log, roomId, ada } = await coachingRoom();
      const first = log.reports.find((r) => r.userId === ada.id && !r.resend)!;
      const body = (await tdb.db.query<{ body: Record<string, unknown> }>("SELECT body FROM room_events WHERE room_id = $1 AND seq = $2", [roomId, first.seq])).rows[0]!.body;
      await tdb.db.transaction((tx) => appendEvents(tx, [{ roomId, clientId: `copy-${first.opId}`, kind: "task.progress", senderId: ada.id, body }]));
      const verdict = await run();
      assert.equal(verdict.ok, false);
      assert.equal(verdict.coaching!.duplicated, 1);
      assert.match(verdict.problems.join("\n"), new RegExp(`report ${first.opId} of ${ada.id} stored 2 times`));
    });

    test("a stored solved total or state that disagrees with the acked reports is reported", async () => {
      const { run, taskId, ada, ben } = await coachingRoom();
      await tdb.db.query("UPDATE task_assignees SET solved = solved + 1 WHERE task_id = $1 AND user_id = $2", [taskId, ben.id]);
      let verdict = await run();
      assert.equal(verdict.ok, false);
      assert.equal(verdict.coaching!.mismatches, 1);
      assert.match(verdict.problems.join("\n"), /has solved 3 stored, the acknowledged reports add up to 2/);

      await tdb.db.query("UPDATE task_assignees SET solved = solved - 1 WHERE task_id = $1 AND user_id = $2", [taskId, ben.id]);
      await tdb.db.query("UPDATE task_assignees SET state = 'started' WHERE task_id = $1 AND user_id = $2", [taskId, ada.id]);
      verdict = await run();
      assert.equal(verdict.coaching!.mismatches, 1);
      assert.match(verdict.problems.join("\n"), /is "started" with 5 of 5/);
    });

    test("an acked task that is missing is lost; a task no call created is duplicated", async () => {
      const { run, log, roomId, coach } = await coachingRoom();
      await tdb.db.query(
        `INSERT INTO tasks (id, room_id, created_by, title, target, assign_all, created_seq) VALUES ('t_stray', $1, $2, 'stray', 5, true, 1)`,
        [roomId, coach.id],
      );
      const ghost = { roomId, coachId: coach.id, clientId: "never-created", target: 5, taskId: "t_ghost", seq: 998 };
      const verdict = await run({ ...log, tasks: [...log.tasks, ghost] });
      assert.equal(verdict.ok, false);
      const problems = verdict.problems.join("\n");
      assert.match(problems, /acked task t_ghost \(seq 998\) .* is not in tasks/);
      assert.match(problems, /task t_stray .* belongs to no create call/);
      assert.match(problems, /task t_stray .* has 0 task\.created events/);
      assert.deepEqual([verdict.coaching!.lost, verdict.coaching!.duplicated], [2, 1]);
    });

    test("an acked read mark that is not stored is lost", async () => {
      const { run, log, ada } = await coachingRoom();
      const reads = log.reads.map((r): [string, string, number, number] => (r[1] === ada.id ? [r[0], r[1], r[2] + 5, r[3] + 5] : r));
      const verdict = await run({ ...log, reads });
      assert.equal(verdict.ok, false);
      assert.equal(verdict.coaching!.lost, 1);
      assert.match(verdict.problems.join("\n"), new RegExp(`${ada.id} marked .* read up to`));
    });
  });
}
