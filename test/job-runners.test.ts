import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { CoachingEventBodies, TaskBoard, TaskView } from "../protocol/coaching.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { EmbeddedRunner } from "../worker/embedded-runner.ts";
import { jobIds, type JobQueue } from "../worker/jobs.ts";
import { localDate, nextLocalHour } from "../worker/quiet-hours.ts";
import { openPostgres, PG_URL, postgresAvailable, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { freshPrefix, REDIS_URL, redisAvailable } from "./support/redis-keyspace.ts";
import { startInProcessWorker } from "./support/bull-worker.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

// The background notices (worker/) on both runners, through one shared suite: the server plans
// jobs on every task change, and either its own EmbeddedRunner (no Redis) or a BullMQ worker
// (Redis) runs them. Real due times are minutes to hours away, so a test makes the job it
// wants due now through the runner's own "run now" (the embedded schedule's run_at, BullMQ's
// promote) and waits until the job has left the schedule. Nothing here is timed.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DIGEST_HOUR = 18;
// BullMQ keeps a job's delay from the moment it builds the job, so a run time it reports can be a
// few milliseconds off the planned one: planned times are compared to the second.
const second = (ms: number) => Math.round(ms / 1000) * 1000;
const toSecond = (j: { id: string; runAt: number }) => ({ id: j.id, runAt: second(j.runAt) });
type NoticeBody = CoachingEventBodies["notice"];
const bodyOf = (e: RoomEvent) => e.body as NoticeBody;
const ENV = {
  COACHWIRE_REMINDER_OFFSETS_MIN: "1",
  COACHWIRE_NUDGE_CHECKPOINTS: "0.5",
  COACHWIRE_DIGEST_HOUR: String(DIGEST_HOUR),
  // A failing job shows up as failed at once instead of after backoffs.
  COACHWIRE_JOB_ATTEMPTS: "1",
  COACHWIRE_HTTP_RATE_PER_MIN: "100000",
};

/** One runner under test: the server that plans jobs, and the test's own handles on the schedule. */
interface Runner {
  tdb: TestDatabase;
  server: TestServer;
  /** The same schedule as the server's, opened by the test (a second producer). */
  queue: JobQueue;
  /** Makes a waiting job due now. */
  runNow(id: string): Promise<void>;
  /** Resolves once the job has run and left the schedule; rejects with its error if it failed. */
  ran(id: string): Promise<void>;
  /** Resolves once the job has run and put itself back to wait (quiet hours), with the time it waits for. */
  deferred(id: string): Promise<number>;
  close(): Promise<void>;
}

async function embeddedRunner(): Promise<Runner> {
  const tdb = await openPostgres();
  const server = await startTestServer(tdb.db, { ...ENV, COACHWIRE_JOB_POLL_MS: "100" });
  // Never started: only reads and writes the schedule the server's runner polls.
  const queue = new EmbeddedRunner(tdb.db, { pollMs: 100, attempts: 1, leaseMs: MINUTE });
  const row = async (id: string) =>
    (await tdb.db.query<{ state: string; last_error: string | null }>("SELECT state, last_error FROM scheduled_jobs WHERE id = $1", [id])).rows[0];
  return {
    tdb,
    server,
    queue,
    async runNow(id) {
      const res = await tdb.db.query("UPDATE scheduled_jobs SET run_at = now() WHERE id = $1 AND state = 'waiting'", [id]);
      assert.equal(res.rowCount, 1, `job ${id} is waiting`);
    },
    ran: (id) =>
      eventually(
        async () => {
          const r = await row(id);
          if (r?.state === "failed") throw new Error(`job ${id} failed: ${r.last_error}`);
          return r === undefined;
        },
        `job ${id} ran`,
        30_000,
      ),
    async deferred(id) {
      let runAt = 0;
      await eventually(async () => {
        const res = await tdb.db.query<{ run_at: Date }>("SELECT run_at FROM scheduled_jobs WHERE id = $1 AND state = 'waiting' AND attempts = 0 AND run_at > now()", [id]);
        runAt = res.rows[0]?.run_at.getTime() ?? 0;
        return runAt > 0;
      }, `job ${id} ran and waits again`);
      return runAt;
    },
    async close() {
      await server.close();
      await tdb.drop();
    },
  };
}

async function bullmqRunner(): Promise<Runner> {
  const tdb = await openPostgres();
  const prefix = freshPrefix();
  const server = await startTestServer(tdb.db, { ...ENV, REDIS_URL, COACHWIRE_REDIS_PREFIX: prefix });
  const worker = await startInProcessWorker(tdb, prefix, DIGEST_HOUR);
  const job = worker.job;
  return {
    tdb,
    server,
    queue: worker.queue,
    async runNow(id) {
      const found = await job(id);
      assert.ok(found, `job ${id} is waiting`);
      await found.promote();
    },
    ran: (id) =>
      eventually(
        async () => {
          const found = await job(id);
          if (found && (await found.isFailed())) throw new Error(`job ${id} failed: ${found.failedReason}`);
          return found === undefined;
        },
        `job ${id} ran`,
        30_000,
      ),
    async deferred(id) {
      let runAt = 0;
      await eventually(async () => {
        const found = await job(id);
        if (!found?.processedOn || (await found.getState()) !== "delayed") return false;
        runAt = found.timestamp + found.delay;
        return true;
      }, `job ${id} ran and waits again`);
      return runAt;
    },
    async close() {
      await server.close();
      await worker.close();
      await tdb.drop();
    },
  };
}

const noPostgres = (await postgresAvailable()) ? false : `PostgreSQL is not reachable at ${PG_URL}`;
const noRedis = noPostgres || ((await redisAvailable()) ? false : `Redis is not reachable at ${REDIS_URL}`);
const RUNNERS = [
  { name: "embedded", skip: noPostgres, start: embeddedRunner },
  { name: "bullmq", skip: noRedis, start: bullmqRunner },
];

for (const runner of RUNNERS) {
  describe(`background notices (${runner.name} runner)`, { skip: runner.skip }, () => {
    let r: Runner;
    beforeEach(async () => {
      r = await runner.start();
    });
    afterEach(async () => {
      await r?.close();
    });

    /** A coach and `n` students in a new room; nobody has quiet hours unless a test gives them some. */
    async function classroom(n: number) {
      const coach = await createUser(r.tdb.db, "coach");
      const students: TestUser[] = [];
      while (students.length < n) students.push(await createUser(r.tdb.db));
      const roomId = await createRoom(r.tdb.db, [coach, ...students]);
      await r.tdb.db.query("UPDATE users SET quiet_start_min = 0, quiet_end_min = 0 WHERE id = ANY($1)", [[coach.id, ...students.map((s) => s.id)]]);
      return { coach, students, roomId };
    }

    async function rest(user: TestUser, method: string, path: string, body?: unknown) {
      const res = await fetch(`${r.server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${await r.server.tokenFor(user)}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json = (await res.json()) as Record<string, unknown>;
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    }

    async function createTask(coach: TestUser, roomId: string, fields: Record<string, unknown>): Promise<TaskView> {
      const res = await rest(coach, "POST", `/api/rooms/${roomId}/tasks`, { clientId: `c-${Math.random().toString(36).slice(2)}`, title: "Türev tekrarı", ...fields });
      return res["task"] as TaskView;
    }

    const report = (student: TestUser, taskId: string, solved: number) => rest(student, "POST", `/api/tasks/${taskId}/progress`, { opId: `op-${solved}`, solved });

    /** The task's jobs waiting to run (the server plans them just after the change is acknowledged), run times to the second. */
    const jobsOf = async (taskId: string) => (await r.queue.waiting()).filter((j) => j.id.includes(taskId)).map(toSecond);
    const plannedAt = (taskId: string, id: string, runAt: number) =>
      eventually(async () => (await jobsOf(taskId)).some((j) => j.id === id && j.runAt === second(runAt)), `${id} planned at ${new Date(runAt).toISOString()}`);

    async function noticesAbout(scopeId: string) {
      const res = await r.tdb.db.query<{ kind: string; user_id: string; window_key: string; room_id: string; body: Record<string, unknown> }>(
        "SELECT kind, user_id, window_key, room_id, body FROM notices WHERE scope_id = $1 ORDER BY kind, user_id",
        [scopeId],
      );
      return res.rows;
    }
    const who = (rows: { kind: string; user_id: string; window_key: string }[]) => rows.map((n) => `${n.kind} ${n.user_id} ${n.window_key}`);
    const expect = (kind: string, users: TestUser[], window: string) => users.map((u) => `${kind} ${u.id} ${window}`).sort();
    /** The room's stored notice events, as "kind recipient". */
    const noticeEvents = async (roomId: string) =>
      (await r.tdb.db.query<{ b: NoticeBody }>("SELECT body AS b FROM room_events WHERE room_id = $1 AND kind = 'notice' ORDER BY seq", [roomId])).rows.map(
        (e) => `${e.b.notice} ${e.b.userId}`,
      );

    test("a task due soon: one reminder per unfinished assignee, live to a connected student, in history for one who was away", async () => {
      const { coach, students, roomId } = await classroom(3);
      const [live, away, done] = students as [TestUser, TestUser, TestUser];
      const task = await createTask(coach, roomId, { target: 5, dueAt: Date.now() + HOUR });
      await plannedAt(task.id, jobIds.reminder(task.id, MINUTE), task.dueAt! - MINUTE);
      await report(done, task.id, 5);
      const liveClient = await r.server.client(live);
      await liveClient.join(roomId);
      const heardLive: RoomEvent[] = [];
      liveClient.socket.on("room:event", (e) => e.kind === "notice" && heardLive.push(e));

      // Due in a little over a minute: the one-minute reminder falls due in a few seconds, on its own.
      const dueAt = Date.now() + 65_000;
      await rest(coach, "PATCH", `/api/tasks/${task.id}`, { clientId: "soon", dueAt });
      await plannedAt(task.id, jobIds.reminder(task.id, MINUTE), dueAt - MINUTE);
      await r.ran(jobIds.reminder(task.id, MINUTE));

      assert.deepEqual(who(await noticesAbout(task.id)), expect("reminder", [live, away], `${MINUTE}@${dueAt}`));
      assert.deepEqual((await noticeEvents(roomId)).sort(), [`reminder ${live.id}`, `reminder ${away.id}`].sort());
      await eventually(() => heardLive.some((e) => bodyOf(e).userId === live.id), "the connected student heard the reminder live");
      assert.match(bodyOf(heardLive.find((e) => bodyOf(e).userId === live.id)!).text, /due in 1 min/);

      const back = await r.server.client(away);
      const history: RoomEvent[] = [];
      back.on("event", (e) => e.kind === "notice" && history.push(e));
      await back.join(roomId, 0);
      await eventually(() => history.some((e) => bodyOf(e).userId === away.id), "the student who was away found the reminder on join");
      assert.equal(history.filter((e) => bodyOf(e).userId === done.id).length, 0, "nothing for the student who is done");
    });

    test("running a reminder again writes nothing new", async () => {
      const { coach, students, roomId } = await classroom(2);
      const task = await createTask(coach, roomId, { dueAt: Date.now() + 3 * HOUR });
      const id = jobIds.reminder(task.id, MINUTE);
      await plannedAt(task.id, id, task.dueAt! - MINUTE);
      await r.runNow(id);
      await r.ran(id);
      const first = await noticesAbout(task.id);
      assert.deepEqual(who(first), expect("reminder", students, `${MINUTE}@${task.dueAt}`));
      const lastSeq = async () => (await r.tdb.db.query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1", [roomId])).rows[0]!.last_seq;
      const seqBefore = await lastSeq();

      // The same job once more, as a runner does after a crash between the notice and the job's completion.
      await r.queue.upsert({ id, kind: "reminder", payload: { taskId: task.id, offsetMs: MINUTE, dueAt: task.dueAt! }, runAt: Date.now() });
      await r.ran(id);
      assert.deepEqual(await noticesAbout(task.id), first);
      assert.equal((await noticeEvents(roomId)).length, 2);
      assert.equal(await lastSeq(), seqBefore, "the room log did not move");
    });

    test("editing the due time moves the reminder; a job planned for the old due time sends nothing", async () => {
      const { coach, students, roomId } = await classroom(2);
      const task = await createTask(coach, roomId, { dueAt: Date.now() + 2 * HOUR });
      const id = jobIds.reminder(task.id, MINUTE);
      await plannedAt(task.id, id, task.dueAt! - MINUTE);
      const dueAt = Date.now() + 3 * HOUR;
      await rest(coach, "PATCH", `/api/tasks/${task.id}`, { clientId: "later", dueAt });
      await plannedAt(task.id, jobIds.overdue(task.id), dueAt);
      assert.deepEqual(await jobsOf(task.id), [
        { id, runAt: second(dueAt - MINUTE) },
        { id: jobIds.overdue(task.id), runAt: second(dueAt) },
      ]);

      // A job of the old plan that was already on its way (a reminder held for someone's quiet hours).
      const old = jobIds.heldReminder(task.id, MINUTE, students[0]!.id);
      await r.queue.upsert({ id: old, kind: "reminder", payload: { taskId: task.id, offsetMs: MINUTE, dueAt: task.dueAt!, userIds: [students[0]!.id] }, runAt: Date.now() });
      await r.ran(old);
      assert.deepEqual(await noticesAbout(task.id), []);

      await r.runNow(id);
      await r.ran(id);
      const sent = await noticesAbout(task.id);
      assert.deepEqual(who(sent), expect("reminder", students, `${MINUTE}@${dueAt}`));
      assert.ok(sent.every((n) => n.body["dueAt"] === dueAt));
    });

    test("cancelling a task removes its jobs", async () => {
      const { coach, roomId } = await classroom(2);
      const task = await createTask(coach, roomId, { target: 10, dueAt: Date.now() + 2 * HOUR });
      await plannedAt(task.id, jobIds.overdue(task.id), task.dueAt!);
      assert.deepEqual((await jobsOf(task.id)).map((j) => j.id).sort(), [jobIds.nudge(task.id, 0.5), jobIds.overdue(task.id), jobIds.reminder(task.id, MINUTE)].sort());
      await rest(coach, "POST", `/api/tasks/${task.id}/cancel`, { clientId: "stop" });
      await eventually(async () => (await jobsOf(task.id)).length === 0, "the task's jobs are gone");
      // The coach's daily digest is the coach's, not the task's: it stays.
      assert.ok((await r.queue.waiting()).some((j) => j.id.startsWith(`digest:${coach.id}:`)));
    });

    test("quiet hours hold a reminder back until the window ends; an urgent task does not wait", async () => {
      const { coach, students, roomId } = await classroom(2);
      const [quiet, awake] = students as [TestUser, TestUser];
      const zone = "Asia/Kolkata";
      const clock = (at: number) => new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);
      const window = { start: clock(Date.now() - 30 * MINUTE), end: clock(Date.now() + HOUR) };
      const set = await rest(quiet, "PATCH", "/api/me/settings", { timeZone: zone, quietHours: window });
      assert.deepEqual(set["settings"], { timeZone: zone, quietHours: window });

      const task = await createTask(coach, roomId, { dueAt: Date.now() + 3 * HOUR });
      const urgent = await createTask(coach, roomId, { dueAt: Date.now() + 3 * HOUR, urgent: true });
      for (const t of [task, urgent]) {
        await plannedAt(t.id, jobIds.reminder(t.id, MINUTE), t.dueAt! - MINUTE);
        await r.runNow(jobIds.reminder(t.id, MINUTE));
        await r.ran(jobIds.reminder(t.id, MINUTE));
      }
      assert.deepEqual(who(await noticesAbout(task.id)), expect("reminder", [awake], `${MINUTE}@${task.dueAt}`));
      assert.deepEqual(who(await noticesAbout(urgent.id)), expect("reminder", [quiet, awake], `${MINUTE}@${urgent.dueAt}`));
      const held = jobIds.heldReminder(task.id, MINUTE, quiet.id);
      assert.deepEqual((await jobsOf(urgent.id)).map((j) => j.id), [jobIds.overdue(urgent.id)], "nothing held for the urgent task");
      const heldJob = (await jobsOf(task.id)).find((j) => j.id === held);
      assert.ok(heldJob, `${held} waits`);
      assert.equal(clock(heldJob.runAt), window.end, "it waits until the window's end, in the student's zone");
      assert.ok(heldJob.runAt > Date.now() && heldJob.runAt % MINUTE === 0);

      // The window ends (moved here rather than waited for): the held reminder goes to that student alone.
      await rest(quiet, "PATCH", "/api/me/settings", { quietHours: { start: "00:00", end: "00:00" } });
      await r.runNow(held);
      await r.ran(held);
      assert.deepEqual(who(await noticesAbout(task.id)), expect("reminder", [quiet, awake], `${MINUTE}@${task.dueAt}`));
      assert.equal((await noticeEvents(roomId)).length, 4);
    });

    test("a held reminder whose student is still quiet waits again (it is not lost); cancelling the task removes it", async () => {
      const { coach, students, roomId } = await classroom(1);
      const quiet = students[0]!;
      const zone = "Asia/Kolkata";
      const clock = (at: number) => new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);
      await rest(quiet, "PATCH", "/api/me/settings", { timeZone: zone, quietHours: { start: clock(Date.now() - 30 * MINUTE), end: clock(Date.now() + HOUR) } });
      const task = await createTask(coach, roomId, { dueAt: Date.now() + 3 * HOUR });
      await plannedAt(task.id, jobIds.reminder(task.id, MINUTE), task.dueAt! - MINUTE);
      await r.runNow(jobIds.reminder(task.id, MINUTE));
      await r.ran(jobIds.reminder(task.id, MINUTE));
      const held = jobIds.heldReminder(task.id, MINUTE, quiet.id);
      assert.ok((await jobsOf(task.id)).some((j) => j.id === held), `${held} waits`);

      // Run early, while the student is still quiet: it waits again until the window's end.
      await r.runNow(held);
      const waitsFor = await r.deferred(held);
      assert.ok(waitsFor > Date.now(), "it waits for a time ahead");
      assert.deepEqual(await noticesAbout(task.id), [], "nothing sent inside quiet hours");

      await rest(coach, "POST", `/api/tasks/${task.id}/cancel`, { clientId: "stop" });
      await eventually(async () => (await jobsOf(task.id)).length === 0, "the task's jobs, the held one too, are gone");
    });

    test("a pace check nudges the students behind pace and flags them on the board, not those on pace", async () => {
      const { coach, students, roomId } = await classroom(3);
      const [onPace, behind, done] = students as [TestUser, TestUser, TestUser];
      const task = await createTask(coach, roomId, { target: 10, dueAt: Date.now() + 2 * HOUR });
      const id = jobIds.nudge(task.id, 0.5);
      await plannedAt(task.id, id, Math.round(task.createdAt + (task.dueAt! - task.createdAt) / 2));
      await report(onPace, task.id, 3);
      await report(done, task.id, 10);
      await r.runNow(id);
      await r.ran(id);
      const sent = await noticesAbout(task.id);
      assert.deepEqual(who(sent), expect("nudge", [behind], `0.5@${task.dueAt}`));
      assert.match(String(sent[0]!.body["text"]), /^10 to go/);
      const board = (await rest(coach, "GET", `/api/tasks/${task.id}/board`))["board"] as TaskBoard;
      assert.deepEqual(
        Object.fromEntries(board.rows.map((row) => [row.userId, row.behindPace])),
        { [onPace.id]: false, [behind.id]: true, [done.id]: false },
      );

      await r.queue.upsert({ id, kind: "nudge", payload: { taskId: task.id, dueAt: task.dueAt!, checkpoint: 0.5 }, runAt: Date.now() });
      await r.ran(id);
      assert.deepEqual(who(await noticesAbout(task.id)), who(sent));
      assert.deepEqual(await noticeEvents(roomId), [`nudge ${behind.id}`]);
    });

    test("the overdue job tells the coach once who missed the task", async () => {
      const { coach, students, roomId } = await classroom(3);
      const [finished, ...missed] = students as [TestUser, TestUser, TestUser];
      const task = await createTask(coach, roomId, { target: 4, dueAt: Date.now() + 2 * HOUR });
      const id = jobIds.overdue(task.id);
      await plannedAt(task.id, id, task.dueAt!);
      await report(finished, task.id, 4);
      await report(missed[0]!, task.id, 1);
      for (let run = 0; run < 2; run++) {
        if (run === 0) await r.runNow(id);
        else await r.queue.upsert({ id, kind: "overdue", payload: { taskId: task.id, dueAt: task.dueAt! }, runAt: Date.now() });
        await r.ran(id);
      }
      const sent = await noticesAbout(task.id);
      assert.deepEqual(who(sent), expect("overdue", [coach], String(task.dueAt)));
      const byName = [...missed].sort((a, b) => `User ${a.id}`.localeCompare(`User ${b.id}`));
      assert.deepEqual(
        sent[0]!.body["missed"],
        byName.map((s) => ({ userId: s.id, displayName: `User ${s.id}`, solved: s === missed[0] ? 1 : 0 })),
      );
      assert.deepEqual(await noticeEvents(roomId), [`overdue ${coach.id}`]);
    });

    test("a digest job writes one digest per coached room with open tasks and plans the next; the coach pages through them", async () => {
      const { coach, students, roomId } = await classroom(2);
      const other = await createUser(r.tdb.db);
      const secondRoom = await createRoom(r.tdb.db, [coach, other]);
      const idleRoom = await createRoom(r.tdb.db, [coach, other]);
      const first = await createTask(coach, roomId, { target: 2, dueAt: Date.now() + 2 * HOUR });
      const secondTask = await createTask(coach, secondRoom, { dueAt: Date.now() + 2 * HOUR });
      await report(students[0]!, first.id, 2);
      const next = nextLocalHour(Date.now() + MINUTE, "UTC", DIGEST_HOUR);
      const nextId = jobIds.digest(coach.id, next.day);
      await plannedAt(secondTask.id, jobIds.overdue(secondTask.id), secondTask.dueAt!);
      await eventually(async () => (await r.queue.waiting()).some((j) => j.id === nextId), "task changes planned the coach's digest");
      // Taken away, so that only the digest run below can plan it again.
      await r.queue.remove(nextId);

      // Yesterday's digest, running late (twice: the second run stores nothing).
      const day = localDate(Date.now() - 24 * HOUR, "UTC");
      const id = jobIds.digest(coach.id, day);
      for (let run = 0; run < 2; run++) {
        await r.queue.upsert({ id, kind: "digest", payload: { coachId: coach.id, day }, runAt: Date.now() });
        await r.ran(id);
      }
      const digests = [...(await noticesAbout(roomId)), ...(await noticesAbout(secondRoom)), ...(await noticesAbout(idleRoom))];
      assert.deepEqual(
        digests.map((d) => [d.kind, d.user_id, d.window_key, d.room_id, d.body["doneOnTime"], d.body["open"], d.body["overdue"]]),
        [
          ["digest", coach.id, day, roomId, 1, 1, 0],
          ["digest", coach.id, day, secondRoom, 0, 1, 0],
        ],
      );
      assert.deepEqual(await noticeEvents(roomId), [`digest ${coach.id}`]);
      assert.deepEqual(
        (await r.queue.waiting()).filter((j) => j.id.startsWith(`digest:${coach.id}:`)).map(toSecond),
        [{ id: nextId, runAt: next.at }],
      );

      const page1 = await rest(coach, "GET", "/api/me/notices?limit=1");
      const page2 = await rest(coach, "GET", `/api/me/notices?limit=1&cursor=${encodeURIComponent(String(page1["nextCursor"]))}`);
      type Item = { id: number; kind: string; roomId: string };
      const items = [...(page1["items"] as Item[]), ...(page2["items"] as Item[])];
      assert.deepEqual(items.map((n) => [n.kind, n.roomId]).sort(), digests.map((d) => [d.kind, d.room_id]).sort());
      assert.ok(items[0]!.id > items[1]!.id, "newest first");
      assert.equal(typeof page1["nextCursor"], "string");
      assert.equal(page2["nextCursor"], null);
      assert.deepEqual((await rest(coach, "GET", "/api/me/notices?kind=reminder"))["items"], []);
    });

    test("a parent's weekly digest: planned when the parent is linked; a run stores one digest and one mail, twice or not, and plans the next week", async () => {
      const { coach, students, roomId } = await classroom(1);
      const child = students[0]!;
      const task = await createTask(coach, roomId, { target: 2, dueAt: Date.now() + 2 * HOUR });
      await report(child, task.id, 2);
      const email = `veli-${Math.random().toString(36).slice(2)}@home.test`;
      await rest(coach, "POST", `/api/students/${child.id}/guardian-invites`, { email });
      const link = (await r.tdb.db.query<{ link: string }>("SELECT link FROM outbox WHERE to_email = $1", [email])).rows[0]!.link;
      const signup = await fetch(`${r.server.url}/api/parent/signup`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: /token=([A-Za-z0-9_-]+)/.exec(link)![1], displayName: "Veli", password: "turuncu-kalem-9", termsVersion: "2026-12-01" }),
      });
      assert.equal(signup.status, 201);
      const parentId = ((await signup.json()) as { user: { id: string } }).user.id;
      const mine = async () => (await r.queue.waiting()).filter((j) => j.id.startsWith(`parent-digest:${parentId}:`)).map(toSecond);
      await eventually(async () => (await mine()).length === 1, "linking planned the parent's digest");
      const [planned] = await mine();
      assert.equal(new Date(planned!.runAt).getUTCDay(), 0, "on Sunday (COACHWIRE_PARENT_DIGEST_WEEKDAY default), the parent being in UTC");
      assert.equal(new Date(planned!.runAt).getUTCHours(), DIGEST_HOUR);
      // Taken away, so that only the run below can plan it again.
      await r.queue.remove(planned!.id);

      // Last week's digest, running late (twice: the second run stores nothing).
      const week = localDate(Date.now() - 7 * 24 * HOUR, "UTC");
      const id = jobIds.parentDigest(parentId, week);
      for (let run = 0; run < 2; run++) {
        await r.queue.upsert({ id, kind: "parent-digest", payload: { parentId, week }, runAt: Date.now() });
        await r.ran(id);
      }
      const stored = await r.tdb.db.query<{ week: string; body: { children: { studentId: string; doneThisWeek: number }[] } }>(
        "SELECT week, body FROM parent_digests WHERE parent_id = $1",
        [parentId],
      );
      assert.deepEqual(stored.rows.map((d) => [d.week, d.body.children.map((c) => [c.studentId, c.doneThisWeek])]), [[week, [[child.id, 1]]]]);
      const mails = await r.tdb.db.query<{ status: string }>("SELECT status FROM outbox WHERE natural_key = $1", [`parent-digest:${parentId}:${week}`]);
      assert.equal(mails.rows.length, 1, "one mail");
      await eventually(async () => (await r.tdb.db.query("SELECT 1 FROM outbox WHERE natural_key = $1 AND status = 'sent'", [`parent-digest:${parentId}:${week}`])).rows.length === 1, "the mail job sent it (kept in the outbox)");
      assert.deepEqual(await mine(), [planned], "the next week's digest is planned again");
    });
  });
}
