import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { taskCreateSchema } from "../protocol/coaching-schemas.ts";
import { ProgressService } from "../server/coaching/progress-service.ts";
import { TaskService } from "../server/coaching/task-service.ts";
import { RoomLogWriter } from "../server/log/log-transaction.ts";
import { EmbeddedRunner } from "../worker/embedded-runner.ts";
import type { JobPayloads } from "../worker/jobs.ts";
import { runNudge } from "../worker/nudge-job.ts";
import { runReminder } from "../worker/reminder-job.ts";
import { planTask, TaskScheduler } from "../worker/task-plan.ts";
import { openPostgres, PG_URL, postgresAvailable, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser } from "./support/fixtures.ts";
import { holdRoomLock, waitingBehind } from "./support/room-lock.ts";
import { eventually } from "./support/server.ts";

// A job reads who is unfinished, then writes each notice under the room's row lock. A student's
// finishing report may commit in between (it queues for the same lock): the notice must then
// not be written. Caught deterministically by holding the room's lock from the test and
// letting the report, then the job, queue behind it (pg_blocking_pids, nothing timed).

const skip = (await postgresAvailable()) ? false : `PostgreSQL is not reachable at ${PG_URL}`;

let tdb: TestDatabase;
before(async () => {
  if (!skip) tdb = await openPostgres();
});
after(async () => {
  await tdb?.drop();
});

describe("a notice for a student who finished meanwhile is not sent", { skip }, () => {
  for (const kind of ["reminder", "nudge"] as const) {
    test(`${kind}: the finishing report commits first, so the job writes nothing`, async () => {
      const db = tdb.db;
      const writer = new RoomLogWriter(db, () => {});
      const [tasks, progress] = [new TaskService(db, writer), new ProgressService(db, writer)];
      const coach = await createUser(db, "coach");
      const student = await createUser(db);
      await db.query("UPDATE users SET quiet_start_min = 0, quiet_end_min = 0 WHERE id = ANY($1)", [[coach.id, student.id]]);
      const roomId = await createRoom(db, [coach, student]);
      const created = await tasks.create(
        coach.id,
        taskCreateSchema.parse({ roomId, clientId: `c-${kind}`, title: "Son soru", target: 1, dueAt: Date.now() + 3_600_000 }),
      );
      const plan = planTask(created.task, { reminderOffsetsMs: [60_000], nudgeCheckpoints: [0.5], digestHour: 18 }, created.task.createdAt);
      const job = plan.find((j) => j.kind === kind)!;
      const ctx = { db, log: new RoomLogWriter(db, () => {}), queue: new EmbeddedRunner(db, { pollMs: 1000, attempts: 1, leaseMs: 60_000 }), now: () => job.runAt, digestHour: 18 };

      const lock = await holdRoomLock(db, roomId);
      const finishing = progress.report(student.id, { taskId: created.task.id, opId: "last", solved: 1 });
      await eventually(async () => (await waitingBehind(db, lock.pid)) === 1, "the finishing report waits for the room");
      const running =
        kind === "reminder" ? runReminder(ctx, job.payload as JobPayloads["reminder"]) : runNudge(ctx, job.payload as JobPayloads["nudge"]);
      await eventually(async () => (await waitingBehind(db, lock.pid)) === 2, "the job, having read the student as unfinished, waits too");
      await lock.release();
      assert.equal((await finishing).progress.state, "done");
      await running;

      const notices = await db.query("SELECT 1 FROM notices WHERE scope_id = $1", [created.task.id]);
      assert.equal(notices.rows.length, 0, "no notice after the student finished");
      const events = await db.query<{ kind: string }>("SELECT kind FROM room_events WHERE room_id = $1 ORDER BY seq", [roomId]);
      assert.deepEqual(events.rows.map((e) => e.kind), ["task.created", "task.progress"]);
      const flag = await db.query<{ behind_pace: boolean }>("SELECT behind_pace FROM task_assignees WHERE task_id = $1", [created.task.id]);
      assert.equal(flag.rows[0]!.behind_pace, false, "no pace flag either");
    });
  }
});

describe("a task's notices are planned from when it was created, not from when the scheduler got to it", { skip }, () => {
  test("a reminder whose time passed while the new task waited to be scheduled is still planned, to run at once", async () => {
    const db = tdb.db;
    const tasks = new TaskService(db, new RoomLogWriter(db, () => {}));
    const coach = await createUser(db, "coach");
    const student = await createUser(db);
    const roomId = await createRoom(db, [coach, student]);
    const dueAt = Date.now() + 3_600_000;
    const created = await tasks.create(coach.id, taskCreateSchema.parse({ roomId, clientId: "c-late-plan", title: "Limit", dueAt }));
    // The reminder falls 1 ms after the task was created: by the time the scheduler runs, it has passed.
    const offsetMs = dueAt - created.task.createdAt - 1;
    await new Promise((r) => setTimeout(r, 20));
    const runner = new EmbeddedRunner(db, { pollMs: 60_000, attempts: 1, leaseMs: 60_000 });
    const errors: unknown[] = [];
    const scheduler = new TaskScheduler(runner, db, { reminderOffsetsMs: [offsetMs], nudgeCheckpoints: [], digestHour: 18 }, (err) => errors.push(err));
    await scheduler.schedule(created.task, "created");
    assert.deepEqual(errors, []);
    const waiting = await runner.waiting();
    const reminder = waiting.find((j) => j.id === `reminder:${created.task.id}:${offsetMs}`);
    assert.ok(reminder, `the reminder is planned (waiting: ${waiting.map((j) => j.id).join(", ")})`);
    assert.equal(reminder.runAt, created.task.createdAt + 1);
    await runner.close();
  });
});

describe("a reminder job's notices to a class", { skip }, () => {
  test("are one transaction, at consecutive seqs; a student already done gets none; running it again writes nothing", async () => {
    const db = tdb.db;
    const writer = new RoomLogWriter(db, () => {});
    const [tasks, progress] = [new TaskService(db, writer), new ProgressService(db, writer)];
    const coach = await createUser(db, "coach");
    const students = [await createUser(db), await createUser(db), await createUser(db)];
    await db.query("UPDATE users SET quiet_start_min = 0, quiet_end_min = 0 WHERE id = ANY($1)", [students.map((s) => s.id)]);
    const roomId = await createRoom(db, [coach, ...students]);
    const created = await tasks.create(coach.id, taskCreateSchema.parse({ roomId, clientId: "c-class", title: "Deneme", target: 1, dueAt: Date.now() + 3_600_000 }));
    await progress.report(students[0]!.id, { taskId: created.task.id, opId: "done", solved: 1 });
    const job = planTask(created.task, { reminderOffsetsMs: [60_000], nudgeCheckpoints: [], digestHour: 18 }, created.task.createdAt).find((j) => j.kind === "reminder")!;
    const ctx = { db, log: new RoomLogWriter(db, () => {}), queue: new EmbeddedRunner(db, { pollMs: 60_000, attempts: 1, leaseMs: 60_000 }), now: () => job.runAt, digestHour: 18 };
    await runReminder(ctx, job.payload as JobPayloads["reminder"]);
    await runReminder(ctx, job.payload as JobPayloads["reminder"]);

    const notices = await db.query<{ user_id: string; seq: number }>("SELECT user_id, seq FROM notices WHERE scope_id = $1 ORDER BY seq", [created.task.id]);
    assert.deepEqual(notices.rows.map((n) => n.user_id).sort(), [students[1]!.id, students[2]!.id].sort(), "one each for the two not done, none for the one done");
    const events = await db.query<{ seq: number; kind: string; txid: string; user_id: string }>(
      "SELECT seq, kind, xmin::text AS txid, body->>'userId' AS user_id FROM room_events WHERE room_id = $1 AND kind = 'notice' ORDER BY seq",
      [roomId],
    );
    assert.deepEqual(events.rows.map((e) => [Number(e.seq), e.user_id]), notices.rows.map((n) => [Number(n.seq), n.user_id]), "each row's seq is its event's");
    assert.equal(Number(events.rows[1]!.seq), Number(events.rows[0]!.seq) + 1);
    assert.equal(new Set(events.rows.map((e) => e.txid)).size, 1, "both in one transaction");
  });
});
