import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CoachingEventBodies } from "../protocol/coaching.ts";
import { mintAccessToken, missingClusterServices, startTestStack, type TestStack } from "./support/cluster-stack.ts";
import { createRoom, createUser } from "./support/fixtures.ts";
import { liveFrames } from "./support/room-stream.ts";
import { eventually } from "./support/server.ts";

// The job worker as `npm run stack` runs it: its own process beside the cluster, on BullMQ in
// the stack's Redis prefix. A task planned through the balancer is run by the worker, whose
// notice reaches a client of a server process live (through the Redis emitter), is stored once,
// and the worker stops cleanly with the stack.

const skip = (await missingClusterServices()) ?? false;

type NoticeBody = CoachingEventBodies["notice"] & { missed: { userId: string }[] };

describe("stack: the job worker", { skip }, () => {
  let t: TestStack;
  let stopped = false;
  before(async () => {
    t = await startTestStack();
  });
  after(async () => {
    if (!stopped) await t?.stop();
  });

  const metricsOf = async (i: number) => (await fetch(`${t.stack.jobWorkerUrls[i]}/metrics`, { signal: AbortSignal.timeout(2000) })).text();

  test("runs as a process of its own, answering /healthz and /metrics on its own port", async () => {
    assert.equal(t.stack.jobWorkerUrls.length, 1, "one job worker by default");
    const health = (await (await fetch(`${t.stack.jobWorkerUrls[0]}/healthz`)).json()) as { ok: boolean; pid: number };
    assert.equal(health.ok, true);
    assert.equal(health.pid, t.stack.jobWorkers[0]!.pid);
    assert.ok(!t.stack.serverUrls.some((u) => u === t.stack.jobWorkerUrls[0]));
    assert.match(await metricsOf(0), /^coachwire_queue_jobs\{state="delayed"\} \d+$/m);
  });

  test("an urgent task's overdue notice is run by the worker and reaches the coach live, once, and in GET /api/me/notices", async () => {
    const coach = await createUser(t.db, "coach");
    const [done, missing] = [await createUser(t.db), await createUser(t.db)];
    const roomId = await createRoom(t.db, [coach, done!, missing!]);
    const coachClient = await t.client(t.stack.lbUrl, coach);
    const live = liveFrames(coachClient, roomId);
    await coachClient.join(roomId);

    // Urgent: the coach's quiet hours (22:00–07:00 UTC by default) must not hold it back.
    const { task } = await coachClient.createTask({ roomId, title: "10 limit sorusu", dueAt: Date.now() + 3000, urgent: true });
    const doneClient = await t.client(t.stack.lbUrl, done!);
    await doneClient.reportProgress({ taskId: task.id, state: "done" });

    const notices = () => live.filter((e) => e.kind === "notice");
    await eventually(() => notices().length > 0, "the overdue notice reaches the coach live", 30_000);
    const [event] = notices();
    const body = event!.body as NoticeBody;
    assert.equal(event!.senderId, null);
    assert.equal(body.notice, "overdue");
    assert.equal(body.userId, coach.id, "addressed to the task's coach");
    assert.equal(body.taskId, task.id);
    assert.equal(body.dueAt, task.dueAt);
    assert.deepEqual(body.missed.map((m) => m.userId), [missing!.id], "only the student who did not finish");

    const res = await fetch(`${t.stack.lbUrl}/api/me/notices?kind=overdue`, { headers: { authorization: `Bearer ${await mintAccessToken(coach)}` } });
    assert.equal(res.status, 200);
    const inbox = (await res.json()) as { items: Array<{ kind: string; roomId: string; seq: number; body: unknown }>; nextCursor: string | null };
    assert.deepEqual(
      inbox.items.map((n) => ({ kind: n.kind, roomId: n.roomId, seq: n.seq, body: n.body })),
      [{ kind: "overdue", roomId, seq: event!.seq, body }],
    );
    await eventually(async () => /^coachwire_jobs_completed_total\{kind="overdue"\} 1$/m.test(await metricsOf(0)), "the worker counts the job");
    const stored = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM room_events WHERE room_id = $1 AND kind = 'notice'", [roomId]);
    assert.equal(stored.rows[0]!.n, 1, "one notice event in the log");
    assert.equal(notices().length, 1, "handed to the coach once");
  });

  test("SIGTERM with the rest of the stack: the worker closes and exits 0", async () => {
    const worker = t.stack.jobWorkers[0]!;
    stopped = true;
    await t.stop();
    assert.deepEqual({ code: worker.exitCode, signal: worker.signalCode }, { code: 0, signal: null });
  });
});
