import { RoomLogWriter } from "../server/log/log-transaction.ts";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, test } from "node:test";
import { Job } from "bullmq";
import { Redis } from "ioredis";
import type { Db } from "../db/db.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { BullJobQueue, bullJobId, bullPrefix } from "../worker/bullmq-runner.ts";
import { EmbeddedRunner } from "../worker/embedded-runner.ts";
import { jobIds, type JobSpec } from "../worker/jobs.ts";
import { localDate, nextLocalHour } from "../worker/quiet-hours.ts";
import { openPostgres, PG_URL, postgresAvailable, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { deleteKeys, freshPrefix, REDIS_URL, redisAvailable } from "./support/redis-keyspace.ts";
import { holdRoomLock, waitingOn } from "./support/room-lock.ts";
import { eventually } from "./support/server.ts";

// Crashes in the middle of a job, with real processes: `npm run worker` (BullMQ) killed with
// SIGKILL, or stopped with SIGTERM, and a server process running the embedded runner killed
// with SIGKILL. To catch a job mid-way every time, the test holds the room's row lock that
// sendNotice takes, so the job waits inside its transaction until the test lets go. The
// verdict: the job runs to its end once more, and every notice exists exactly once.

const ROOT = new URL("..", import.meta.url).pathname;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const noPostgres = (await postgresAvailable()) ? false : `PostgreSQL is not reachable at ${PG_URL}`;
const noRedis = noPostgres || ((await redisAvailable()) ? false : `Redis is not reachable at ${REDIS_URL}`);

/** A process of ours: `worker/main.ts` or `server/main.ts`, with only the given coachwire settings. */
class Proc {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(entry: string, env: Record<string, string>) {
    const clean = Object.entries(process.env).filter(([k]) => !k.startsWith("COACHWIRE_") && k !== "DATABASE_URL" && k !== "REDIS_URL");
    this.child = spawn(process.execPath, ["--import", "tsx", entry], { cwd: ROOT, env: { ...Object.fromEntries(clean), ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-20_000));
    this.child.stdout!.on("data", keep);
    this.child.stderr!.on("data", keep);
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

describe("crashes in the middle of a job", () => {
  let tdb: TestDatabase;
  let prefix: string;
  const procs: Proc[] = [];

  beforeEach(async () => {
    tdb = await openPostgres();
    prefix = freshPrefix();
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.running) p.child.kill("SIGKILL");
    await tdb?.drop();
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on("error", () => {});
    if (await redis.connect().then(() => true, () => false)) await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  const worker = (env: Record<string, string> = {}) => {
    const p = new Proc("worker/main.ts", {
      DATABASE_URL: PG_URL,
      COACHWIRE_DB_SCHEMA: tdb.schema!,
      REDIS_URL,
      COACHWIRE_REDIS_PREFIX: prefix,
      COACHWIRE_HOST: "127.0.0.1",
      COACHWIRE_WORKER_METRICS_PORT: "0",
      COACHWIRE_LOG_LEVEL: "warn",
      ...env,
    });
    procs.push(p);
    return p;
  };

  /** A coach and students in a new room (no quiet hours), with an open task for them due in two hours. */
  async function taskFor(coach: TestUser, students: TestUser[], roomId?: string) {
    const room = roomId ?? (await createRoom(tdb.db, [coach, ...students]));
    await tdb.db.query("UPDATE users SET quiet_start_min = 0, quiet_end_min = 0 WHERE id = ANY($1)", [[coach.id, ...students.map((s) => s.id)]]);
    const taskId = `t_${randomBytes(6).toString("hex")}`;
    const dueAt = Date.now() + 2 * HOUR;
    await tdb.db.query("INSERT INTO tasks (id, room_id, created_by, title, due_at, assign_all, created_seq) VALUES ($1, $2, $3, 'Paragraf', $4, false, 0)", [
      taskId,
      room,
      coach.id,
      new Date(dueAt),
    ]);
    await tdb.db.query("INSERT INTO task_assignees (task_id, user_id) SELECT $1, unnest($2::text[])", [taskId, students.map((s) => s.id)]);
    const reminder: JobSpec = { id: jobIds.reminder(taskId, MINUTE), kind: "reminder", payload: { taskId, offsetMs: MINUTE, dueAt }, runAt: Date.now() };
    return { roomId: room, taskId, dueAt, reminder };
  }

  async function notices(userId?: string) {
    const res = await tdb.db.query<{ kind: string; scope_id: string; user_id: string; room_id: string }>(
      "SELECT kind, scope_id, user_id, room_id FROM notices WHERE $1::text IS NULL OR user_id = $1 ORDER BY room_id, user_id",
      [userId ?? null],
    );
    return res.rows.map((n) => `${n.kind} ${n.room_id} ${n.user_id}`).sort();
  }
  async function noticeEvents() {
    const res = await tdb.db.query<{ room_id: string; body: { notice: string; userId: string } }>(
      "SELECT room_id, body FROM room_events WHERE kind = 'notice' ORDER BY room_id, body->>'userId'",
    );
    return res.rows.map((e) => `${e.body.notice} ${e.room_id} ${e.body.userId}`).sort();
  }

  test("kill -9 of a worker mid-job: another worker picks the job up, and each notice exists once", { skip: noRedis }, async () => {
    // A coach's digest covers two rooms, one notice each: the worker dies after the first and before the second.
    const coach = await createUser(tdb.db, "coach");
    const [a, b] = [await createUser(tdb.db), await createUser(tdb.db)];
    await taskFor(coach, [a]);
    await taskFor(coach, [b]);
    const rooms = (await tdb.db.query<{ id: string }>("SELECT room_id AS id FROM tasks ORDER BY room_id")).rows.map((r) => r.id);
    const [first, second] = rooms as [string, string];
    const queue = new BullJobQueue({ url: REDIS_URL, prefix: bullPrefix(prefix), attempts: 1 });
    try {
      const lock = await holdRoomLock(tdb.db, second);
      const day = localDate(Date.now() - 24 * HOUR, "UTC");
      const id = jobIds.digest(coach.id, day);
      await queue.upsert({ id, kind: "digest", payload: { coachId: coach.id, day }, runAt: Date.now() });
      const doomed = worker();
      await eventually(
        async () => (await queue.queue.getActive()).some((j) => j.id === bullJobId(id)) && (await waitingOn(tdb.db, lock.pid)) === 1,
        "the first worker is inside the job, waiting for the second room",
        30_000,
      );
      assert.deepEqual(await notices(), [`digest ${first} ${coach.id}`], "the first room's digest is stored, the second not yet");

      doomed.child.kill("SIGKILL");
      assert.equal((await doomed.exited).signal, "SIGKILL");
      await lock.release();
      const next = worker();
      // BullMQ finds the dead worker's job stalled once its lock expires (lockDuration 10 s) and runs it again.
      await eventually(
        async () => {
          const job = await Job.fromId(queue.queue, bullJobId(id));
          if (job && (await job.isFailed())) throw new Error(`the job failed: ${job.failedReason}`);
          return job === undefined;
        },
        `the job completed\n${next.output}`,
        60_000,
      );

      assert.deepEqual(await notices(), [`digest ${first} ${coach.id}`, `digest ${second} ${coach.id}`].sort());
      assert.deepEqual(await noticeEvents(), [`digest ${first} ${coach.id}`, `digest ${second} ${coach.id}`].sort());
      const planned = nextLocalHour(Date.now() + MINUTE, "UTC", 18);
      assert.deepEqual(
        (await queue.waiting()).map((j) => j.id),
        [jobIds.digest(coach.id, planned.day)],
        "the next digest is planned, once",
      );
      next.child.kill("SIGTERM");
      assert.deepEqual(await next.exited, { code: 0, signal: null }, next.output);
    } finally {
      await queue.close();
    }
  });

  test("SIGTERM mid-job: the worker finishes the job, then exits 0", { skip: noRedis }, async () => {
    const coach = await createUser(tdb.db, "coach");
    const students = [await createUser(tdb.db), await createUser(tdb.db)];
    const { roomId, reminder } = await taskFor(coach, students);
    const queue = new BullJobQueue({ url: REDIS_URL, prefix: bullPrefix(prefix), attempts: 1 });
    try {
      const lock = await holdRoomLock(tdb.db, roomId);
      await queue.upsert(reminder);
      const stopping = worker({ COACHWIRE_LOG_LEVEL: "info" });
      await eventually(
        async () => (await queue.queue.getActive()).some((j) => j.id === bullJobId(reminder.id)) && (await waitingOn(tdb.db, lock.pid)) === 1,
        "the worker is inside the job",
        30_000,
      );
      stopping.child.kill("SIGTERM");
      await eventually(() => stopping.output.includes("worker stopping"), "the worker began to stop");
      assert.ok(stopping.running, "it waits for the running job");
      await lock.release();
      assert.deepEqual(await stopping.exited, { code: 0, signal: null }, stopping.output);

      // Nobody else ran it: the stopping worker completed the job before it exited.
      assert.equal(await Job.fromId(queue.queue, bullJobId(reminder.id)), undefined);
      const expected = students.map((s) => `reminder ${roomId} ${s.id}`).sort();
      assert.deepEqual(await notices(), expected);
      assert.deepEqual(await noticeEvents(), expected);
    } finally {
      await queue.close();
    }
  });

  test("embedded runner: a job claimed by a server process that dies is run again after the lease, once", { skip: noPostgres }, async () => {
    const coach = await createUser(tdb.db, "coach");
    const students = [await createUser(tdb.db), await createUser(tdb.db)];
    const { roomId, reminder } = await taskFor(coach, students);
    const lock = await holdRoomLock(tdb.db, roomId);
    // Planned as the server plans it (scheduled_jobs), due now; nothing runs it yet.
    await new EmbeddedRunner(tdb.db, { pollMs: 100, attempts: 1, leaseMs: 1000 }).upsert(reminder);

    const doomed = new Proc("server/main.ts", {
      DATABASE_URL: PG_URL,
      COACHWIRE_DB_SCHEMA: tdb.schema!,
      COACHWIRE_HOST: "127.0.0.1",
      COACHWIRE_PORT: "0",
      COACHWIRE_DEMO_SEED: "false",
      COACHWIRE_LOG_LEVEL: "warn",
      COACHWIRE_JOB_POLL_MS: "100",
      COACHWIRE_JOB_LEASE_MS: "1000",
      COACHWIRE_JOB_ATTEMPTS: "1",
    });
    procs.push(doomed);
    const claim = async () => (await tdb.db.query<{ attempts: number }>("SELECT attempts FROM scheduled_jobs WHERE id = $1", [reminder.id])).rows[0]?.attempts;
    await eventually(async () => (await claim()) === 1 && (await waitingOn(tdb.db, lock.pid)) === 1, `the server process claimed the job\n${doomed.output}`, 30_000);
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    await lock.release();
    assert.deepEqual(await notices(), [], "the dead process stored nothing");

    // The next process's runner: the job's lease runs out and it is claimed again.
    const otherDb = await tdb.openAnother();
    const heard: RoomEvent[] = [];
    const completed: string[] = [];
    const next = new EmbeddedRunner(otherDb, { pollMs: 100, attempts: 1, leaseMs: 1000 });
    next.on("completed", ({ id }: { id: string }) => completed.push(id));
    next.start({ db: otherDb, log: new RoomLogWriter(otherDb, (events) => void heard.push(...events)), now: Date.now, digestHour: 18 });
    try {
      await eventually(async () => (await claim()) === undefined, "the job ran to its end", 30_000);
      assert.deepEqual(completed, [reminder.id]);
      const expected = students.map((s) => `reminder ${roomId} ${s.id}`).sort();
      assert.deepEqual(await notices(), expected);
      assert.deepEqual(await noticeEvents(), expected);
      assert.deepEqual(heard.map((e) => `${e.kind} ${e.roomId}`), [`notice ${roomId}`, `notice ${roomId}`], "the runner broadcast each notice once");
    } finally {
      await next.close();
    }
  });
});
