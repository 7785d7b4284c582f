import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Job } from "bullmq";
import type { CoachClient } from "../protocol/client.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { jobIds } from "../worker/jobs.ts";
import { openPostgres, PG_URL, postgresAvailable, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { startInProcessWorker } from "./support/bull-worker.ts";
import { freshPrefix, REDIS_URL, redisAvailable } from "./support/redis-keyspace.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

// A notice is for one person: a reminder or nudge for a student, an overdue list or a digest
// for the coach. It is still an event of the room's log (ordered, with a seq every member
// sees, so nobody's log has a gap), but only its recipient and the room's coaches see what it
// says; classmates see `{notice, redacted: true}` — live, in the join backlog, in room:history
// and over REST. Checked with the server's own runner (the room broadcaster) and with a BullMQ
// worker (the Redis emitter), since each broadcasts on its own path.

const MINUTE = 60_000;
const ENV = { COACHWIRE_REMINDER_OFFSETS_MIN: "1", COACHWIRE_JOB_POLL_MS: "100", COACHWIRE_HTTP_RATE_PER_MIN: "100000" };
const noPostgres = (await postgresAvailable()) ? false : `PostgreSQL is not reachable at ${PG_URL}`;
const noRedis = noPostgres || ((await redisAvailable()) ? false : `Redis is not reachable at ${REDIS_URL}`);

interface Setup {
  tdb: TestDatabase;
  server: TestServer;
  /** Makes the task's reminder job due now. */
  runReminder(taskId: string): Promise<void>;
  close(): Promise<void>;
}

async function embedded(): Promise<Setup> {
  const tdb = await openPostgres();
  const server = await startTestServer(tdb.db, ENV);
  return {
    tdb,
    server,
    async runReminder(taskId) {
      const id = jobIds.reminder(taskId, MINUTE);
      await eventually(async () => (await tdb.db.query("UPDATE scheduled_jobs SET run_at = now() WHERE id = $1", [id])).rowCount === 1, `${id} planned`);
    },
    async close() {
      await server.close();
      await tdb.drop();
    },
  };
}

async function bullmq(): Promise<Setup> {
  const tdb = await openPostgres();
  const prefix = freshPrefix();
  const server = await startTestServer(tdb.db, { ...ENV, REDIS_URL, COACHWIRE_REDIS_PREFIX: prefix });
  const worker = await startInProcessWorker(tdb, prefix, 18, 2);
  return {
    tdb,
    server,
    async runReminder(taskId) {
      const id = jobIds.reminder(taskId, MINUTE);
      let job: Job | undefined;
      await eventually(async () => (job = await worker.job(id)) !== undefined, `${id} planned`);
      await job!.promote();
    },
    async close() {
      await server.close();
      await worker.close();
      await tdb.drop();
    },
  };
}

for (const [name, start, skip] of [
  ["embedded runner", embedded, noPostgres],
  ["BullMQ worker", bullmq, noRedis],
] as const) {
  describe(`notices are private to their recipient and the coaches (${name})`, { skip }, () => {
    let s: Setup;
    let coach: TestUser;
    let ali: TestUser;
    let ayse: TestUser;
    let roomId: string;
    const live = new Map<string, RoomEvent[]>();
    let clients: CoachClient[];
    let reminderSeqs: number[];

    before(async () => {
      s = await start();
      coach = await createUser(s.tdb.db, "coach");
      [ali, ayse] = [await createUser(s.tdb.db), await createUser(s.tdb.db)];
      roomId = await createRoom(s.tdb.db, [coach, ali, ayse]);
      await s.tdb.db.query("UPDATE users SET quiet_start_min = 0, quiet_end_min = 0");
      clients = [];
      for (const user of [coach, ali, ayse]) {
        const client = await s.server.client(user);
        const seen: RoomEvent[] = [];
        client.on("event", (e) => e.kind === "notice" && seen.push(e));
        await client.join(roomId);
        live.set(user.id, seen);
        clients.push(client);
      }
      const task = await clients[0]!.createTask({ roomId, title: "Paragraf", target: 20, dueAt: Date.now() + 60 * MINUTE });
      await s.runReminder(task.task.id);
      await eventually(() => [...live.values()].every((seen) => seen.length === 2), "every member got both reminder events");
      reminderSeqs = live.get(coach.id)!.map((e) => e.seq);
    });
    after(async () => {
      await s?.close();
    });

    /** What a member's view of the two reminders says: whose it is, or "redacted". */
    const view = (events: RoomEvent[]) =>
      events.map((e) => {
        const body = e.body as { userId?: string; redacted?: boolean; text?: string; notice: string };
        return body.redacted ? `${body.notice}: redacted` : `${body.notice}: for ${body.userId}`;
      });
    const full = (user: TestUser) => `reminder: for ${user.id}`;

    test("live: the coach sees both, each student their own in full and the other's redacted", () => {
      assert.deepEqual(view(live.get(coach.id)!).sort(), [full(ali), full(ayse)].sort());
      assert.deepEqual(view(live.get(ali.id)!).sort(), [full(ali), "reminder: redacted"].sort());
      assert.deepEqual(view(live.get(ayse.id)!).sort(), [full(ayse), "reminder: redacted"].sort());
      // Same seqs for everyone: a redacted event still fills its place in the log.
      for (const seen of live.values()) assert.deepEqual(seen.map((e) => e.seq), reminderSeqs);
      const redactedBody = live.get(ali.id)!.find((e) => (e.body as { redacted?: boolean }).redacted)!.body;
      assert.deepEqual(redactedBody, { notice: "reminder", redacted: true }, "nothing of the other's notice leaks");
    });

    test("history (socket and REST) and a fresh join show each member the same view", async () => {
      for (const [user, expected] of [
        [coach, [full(ali), full(ayse)]],
        [ali, [full(ali), "reminder: redacted"]],
        [ayse, [full(ayse), "reminder: redacted"]],
      ] as const) {
        const client = await s.server.client(user);
        const page = await client.history(roomId, { after: reminderSeqs[0]! - 1, limit: 2 });
        assert.deepEqual(view(page.events).sort(), [...expected].sort(), `room:history for ${user.id}`);
        const res = await fetch(`${s.server.url}/api/rooms/${roomId}/events?after=${reminderSeqs[0]! - 1}&limit=2`, {
          headers: { authorization: `Bearer ${await s.server.tokenFor(user)}` },
        });
        assert.deepEqual(view(((await res.json()) as { events: RoomEvent[] }).events).sort(), [...expected].sort(), `REST for ${user.id}`);
        const backlog: RoomEvent[] = [];
        const rejoiner = await s.server.client(user);
        rejoiner.on("event", (e) => e.kind === "notice" && backlog.push(e));
        await rejoiner.join(roomId, reminderSeqs[0]! - 1);
        await eventually(() => backlog.length === 2, "the backlog's notices");
        assert.deepEqual(view(backlog).sort(), [...expected].sort(), `join backlog for ${user.id}`);
        client.close();
        rejoiner.close();
      }
    });
  });
}
