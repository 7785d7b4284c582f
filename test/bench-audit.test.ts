import { RoomLogWriter } from "../server/log/log-transaction.ts";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { taskCreateSchema } from "../protocol/coaching-schemas.ts";
import { audit } from "../bench/audit.ts";
import type { NoticeAuditOptions } from "../bench/notice-audit.ts";
import type { ClientResult, UserAudit } from "../bench/client-proc.ts";
import { noCoachingRecords, taskTitle, type CoachingRecords, type ReportRecord } from "../bench/coaching-traffic.ts";
import { ProgressService } from "../server/coaching/progress-service.ts";
import { ReadMarks } from "../server/coaching/read-marks.ts";
import { TaskService } from "../server/coaching/task-service.ts";
import { appendEvents } from "../server/log/append.ts";
import { EmbeddedRunner } from "../worker/embedded-runner.ts";
import type { JobContext } from "../worker/job-context.ts";
import type { ReminderPayload } from "../worker/jobs.ts";
import { sendNotice } from "../worker/notices.ts";
import { runReminder } from "../worker/reminder-job.ts";
import { planTask } from "../worker/task-plan.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser } from "./support/fixtures.ts";

// The bench's audit must catch what it exists to catch: an acked send missing from the
// database, a message stored twice, a user who skipped or repeated a seq or fell behind; and
// for the coaching traffic, a progress report missing or counted twice, a stored total that
// disagrees with the acked reports, a task missing or created twice, a read mark not stored;
// for the job worker's notices, a reminder missing, a notice event written twice, a reminder
// to a student who was already done, a notice its recipient's client never got (or got twice).
// The data is written by the real services (chat append, tasks, progress, read marks) into a
// real database; the "bugs" are then made by hand.

/** Audit options for data with no reminders planned. */
const NO_REMINDERS: NoticeAuditOptions = { reminderOffsetsMs: [], requiredBefore: 0, pendingJobs: new Set() };

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
  storm: { startedAt: null, lastDisconnectAt: null, resumedAt: [], postResume: "" }, deploySteps: [],
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

    const user = (over: Partial<UserAudit> = {}): UserAudit => ({
      userId: "u",
      role: "student",
      roomId,
      joinedAt: 0,
      first: 1,
      last: 3,
      count: 3,
      gaps: 0,
      duplicates: 0,
      notices: { mine: [], redacted: 0, othersInFull: 0 },
      ...over,
    });

    test("a clean run passes", async () => {
      const verdict = await audit(tdb.db, [result([[roomId, sender, "c1", 1], [roomId, sender, "c2", 2]], [user()])], { [roomId]: 3 }, NO_REMINDERS);
      assert.equal(verdict.ok, true, verdict.problems.join("\n"));
      assert.equal(verdict.storedRows, 3);
      assert.equal(verdict.coaching?.tasksAcked, 0);
    });

    test("an acked send that is not stored, or stored under another seq, is lost", async () => {
      const verdict = await audit(tdb.db, [result([[roomId, sender, "never-stored", 4], [roomId, sender, "c3", 2], [roomId, "someone-else", "c1", 1]], [user()])], { [roomId]: 3 }, NO_REMINDERS);
      assert.equal(verdict.ok, false);
      // c1 is stored, but as the coach's: another sender's ack for that id is not it.
      assert.equal(verdict.lost, 3);
    });

    test("a gap, a repeat, or a user behind the room's last seq fails the run", async () => {
      const verdict = await audit(
        tdb.db,
        [result([], [user({ userId: "gappy", gaps: 1 }), user({ userId: "twice", duplicates: 2 }), user({ userId: "late", last: 2 })])],
        { [roomId]: 3 },
        NO_REMINDERS,
      );
      assert.equal(verdict.ok, false);
      assert.deepEqual([verdict.usersWithGaps, verdict.duplicated, verdict.usersBehind], [1, 2, 1]);
    });

    test("the same message text stored twice counts as duplicated", async () => {
      await tdb.db.transaction((tx) => appendEvents(tx, [{ roomId, clientId: "c9", kind: "chat", senderId: sender, body: { text: "bench 1" } }]));
      const verdict = await audit(tdb.db, [result([], [user({ last: 4, count: 4 })])], { [roomId]: 4 }, NO_REMINDERS);
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
      const run = (records: CoachingRecords = log) => audit(tdb.db, [result([], [], records)], { [roomId]: lastSeq }, NO_REMINDERS);
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

  describe(`bench audit: notices (${driver})`, () => {
    let tdb: TestDatabase;
    let tasks: TaskService;
    let progress: ProgressService;
    const OFFSET = 60_000;

    before(async () => {
      tdb = await openTestDatabase(driver);
      const writer = new RoomLogWriter(tdb.db, () => {});
      tasks = new TaskService(tdb.db, writer);
      progress = new ProgressService(tdb.db, writer);
    });
    after(() => tdb.drop());

    /**
     * A room of one coach and three students without quiet hours (as the bench seeds them), and
     * a task of 2 due in 63 s. Ada finishes it at once (her done ack arrives before the reminder's
     * planned time); then the server's own plan's reminder job (1 min before due) runs as the
     * worker runs it at its planned time — for `reminded` only, when given — and then once more
     * (a retry writes nothing). Each user's client is recorded as having been handed every notice:
     * their own in full, the others' redacted (the coach: all in full).
     */
    async function noticeRoom(reminded?: (ids: { ben: string; cy: string }) => string[]) {
      const coach = await createUser(tdb.db, "coach");
      const [ada, ben, cy] = [await createUser(tdb.db), await createUser(tdb.db), await createUser(tdb.db)];
      await tdb.db.query("UPDATE users SET quiet_start_min = 0, quiet_end_min = 0 WHERE id = ANY($1::text[])", [[coach.id, ada.id, ben.id, cy.id]]);
      const roomId = await createRoom(tdb.db, [coach, ada, ben, cy]);
      const log = noCoachingRecords();
      const clientId = randomUUID();
      const created = await tasks.create(coach.id, taskCreateSchema.parse({ roomId, clientId, title: taskTitle(clientId), target: 2, dueAt: Date.now() + 63_000 }));
      const taskId = created.task.id;
      log.tasks.push({ roomId, coachId: coach.id, clientId, target: 2, taskId, seq: created.seq });
      const opId = randomUUID();
      const res = await progress.report(ada.id, { taskId, opId, solved: 2, correct: 2, wrong: 0 });
      assert.equal(res.progress.state, "done");
      log.reports.push({ roomId, userId: ada.id, taskId, opId, solved: 2, resend: false, seq: res.seq, duplicate: false, doneAckedAt: Date.now() });

      const job = planTask(created.task, { reminderOffsetsMs: [OFFSET], nudgeCheckpoints: [], digestHour: 18 }, created.task.createdAt).find((j) => j.kind === "reminder")!;
      const payload = job.payload as ReminderPayload;
      const queue = new EmbeddedRunner(tdb.db, { pollMs: 1000, attempts: 1, leaseMs: 60_000 }); // never started: nobody is quiet
      const ctx: JobContext = { db: tdb.db, log: new RoomLogWriter(tdb.db, () => {}), queue, now: () => job.runAt, digestHour: 18 };
      const only = reminded?.({ ben: ben.id, cy: cy.id });
      for (let run = 0; run < 2; run++) await runReminder(ctx, only ? { ...payload, userIds: only } : payload);
      const window = `${OFFSET}@${payload.dueAt}`;

      /** Audits the room as it is now, with each client's record edited by `edit` (and these reminder jobs still queued). */
      const run = async (edit: (users: Map<string, UserAudit>) => void = () => {}, pendingJobs: ReadonlySet<string> = new Set()) => {
        const lastSeq = Number((await tdb.db.query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1", [roomId])).rows[0]!.last_seq);
        const sent = (await tdb.db.query<{ user_id: string; seq: number }>("SELECT user_id, seq FROM notices WHERE room_id = $1", [roomId])).rows;
        const users = new Map(
          [coach, ada, ben, cy].map((u): [string, UserAudit] => {
            const mine = sent.filter((n) => n.user_id === u.id).map((n) => Number(n.seq));
            const others = sent.length - mine.length;
            const role = u.role === "coach" ? "coach" : "student";
            const notices = { mine, redacted: role === "coach" ? 0 : others, othersInFull: role === "coach" ? others : 0 };
            return [u.id, { userId: u.id, role, roomId, joinedAt: 0, first: 1, last: lastSeq, count: lastSeq, gaps: 0, duplicates: 0, notices }];
          }),
        );
        edit(users);
        return audit(tdb.db, [result([], [...users.values()], log)], { [roomId]: lastSeq }, { reminderOffsetsMs: [OFFSET], requiredBefore: Date.now() + 120_000, pendingJobs });
      };
      return { roomId, taskId, coach, ada, ben, cy, window, run, jobId: job.id };
    }

    test("a clean run passes: every student not done has one reminder, delivered to them once", async () => {
      const { run } = await noticeRoom();
      const verdict = await run();
      assert.equal(verdict.ok, true, verdict.problems.join("\n"));
      const n = verdict.notices!;
      assert.deepEqual(n.kinds.reminder, { sent: 2, awaited: 2, delivered: 2 });
      assert.deepEqual({ ...n.reminders, latencyMs: null }, { windows: 1, expected: 2, found: 2, eitherWay: 0, afterDone: 0, notYetDue: 0, latencyMs: null });
      assert.deepEqual(n.copies, { mine: 2, redacted: 4, othersInFull: 2 });
      assert.deepEqual([n.lost, n.duplicated, n.mismatches], [0, 0, 0]);
    });

    test("a missing reminder is lost", async () => {
      const { run, ben } = await noticeRoom(({ cy }) => [cy]);
      const verdict = await run();
      assert.equal(verdict.ok, false);
      assert.deepEqual([verdict.notices!.lost, verdict.notices!.reminders.expected, verdict.notices!.reminders.found], [1, 2, 1]);
      assert.match(verdict.problems.join("\n"), new RegExp(`no reminder .* for ${ben.id}, who was never done`));
    });

    test("a reminder whose job is still queued is not required yet, however late it is", async () => {
      const { run, jobId } = await noticeRoom(({ cy }) => [cy]);
      const missing = await run();
      assert.equal(missing.ok, false, "ben's reminder is missing once the job has run");
      const pending = await run(undefined, new Set([jobId]));
      assert.equal(pending.ok, true, pending.problems.join("\n"));
      assert.equal(pending.notices!.reminders.notYetDue, 1);
    });

    test("a notice event written twice is duplicated", async () => {
      const { run, roomId, ben } = await noticeRoom();
      const first = (await tdb.db.query<{ body: Record<string, unknown> }>("SELECT body FROM room_events WHERE room_id = $1 AND kind = 'notice' AND body->>'userId' = $2", [roomId, ben.id])).rows[0]!;
      await tdb.db.transaction((tx) => appendEvents(tx, [{ roomId, clientId: "notice-copy", kind: "notice", senderId: null, body: first.body }]));
      const verdict = await run();
      assert.equal(verdict.ok, false);
      assert.deepEqual([verdict.notices!.duplicated, verdict.duplicated], [1, 1]);
      assert.match(verdict.problems.join("\n"), new RegExp(`reminder to ${ben.id}, clientId notice-copy\\) has no notices row`));
    });

    test("a reminder sent to a student who was already done is reported", async () => {
      const { run, roomId, taskId, ada, window } = await noticeRoom();
      // What a job that ignored the done state would send (through the real notice path).
      const seq = await sendNotice(new RoomLogWriter(tdb.db, () => {}), { kind: "reminder", scopeId: taskId, userId: ada.id, windowKey: window, roomId, body: { taskId } });
      assert.notEqual(seq, null);
      const verdict = await run();
      assert.equal(verdict.ok, false);
      // Wrong twice over: sent though done before the planned time, and committed after the done state.
      assert.deepEqual([verdict.notices!.mismatches, verdict.notices!.reminders.afterDone], [2, 1]);
      assert.match(verdict.problems.join("\n"), new RegExp(`reminder ${window} on ${taskId} went to ${ada.id}, who was done before it was planned`));
      assert.match(verdict.problems.join("\n"), /written after its recipient's done state/);
    });

    test("a notice its recipient got twice, or never in full, or that a student got in full for someone else, is reported", async () => {
      const { run, coach, ada, ben, cy } = await noticeRoom();
      const verdict = await run((users) => {
        const [b, c, a, k] = [users.get(ben.id)!, users.get(cy.id)!, users.get(ada.id)!, users.get(coach.id)!];
        b.notices.mine.push(b.notices.mine[0]!);
        c.notices = { mine: [], redacted: c.notices.redacted + 1, othersInFull: 0 };
        a.notices = { ...a.notices, redacted: a.notices.redacted - 1, othersInFull: 1 };
        k.notices = { ...k.notices, redacted: 1, othersInFull: k.notices.othersInFull - 1 };
      });
      assert.equal(verdict.ok, false);
      const n = verdict.notices!;
      assert.deepEqual([n.lost, n.duplicated, n.mismatches], [1, 1, 2], verdict.problems.join("\n"));
      assert.deepEqual(n.kinds.reminder, { sent: 2, awaited: 2, delivered: 0 });
      const problems = verdict.problems.join("\n");
      assert.match(problems, new RegExp(`to ${ben.id} .*: delivered 2 times`));
      assert.match(problems, new RegExp(`to ${cy.id} .*: its recipient's client was in the room and was handed that seq, but not in full`));
      assert.match(problems, new RegExp(`student ${ada.id} was handed 1 notice\\(s\\) for someone else in full`));
      assert.match(problems, new RegExp(`coach ${coach.id} was handed 1 notice\\(s\\) redacted`));
    });
  });
}
