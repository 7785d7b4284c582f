import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import type { CoachingEventBodies } from "../protocol/coaching.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { missingClusterServices, startTestStack, type TestStack } from "./support/cluster-stack.ts";
import { createRoom, createUser } from "./support/fixtures.ts";
import { liveFrames } from "./support/room-stream.ts";
import { eventually } from "./support/server.ts";

// COACHWIRE_REDIS_ADAPTER=sharded end to end, as `npm run stack` runs it: two server processes on
// uWS with the sharded Redis adapter (SPUBLISH/SSUBSCRIBE) and a job worker process built from
// the same config. The worker used to publish the classic way, which a sharded adapter never
// hears: its notices reached nobody live. Here a chat crosses the two processes, and the job
// worker's overdue notice reaches the coach's sockets on both processes live, in full, and each
// student's redacted. Waits are bounded; nothing asserts how long anything took.

const skip = (await missingClusterServices()) ?? false;

type NoticeBody = CoachingEventBodies["notice"] & { missed: { userId: string }[] };

describe("stack with COACHWIRE_REDIS_ADAPTER=sharded: servers and the job worker share one fan-out", { skip }, () => {
  let t: TestStack;
  before(async () => {
    t = await startTestStack({ env: { COACHWIRE_REDIS_ADAPTER: "sharded" } });
  });
  afterEach(() => t?.closeClients());
  after(async () => {
    await t?.stop();
  });

  const [onA, onB] = [0, 1];
  const once = (frames: RoomEvent[], seq: number) => frames.filter((e) => e.seq === seq);

  test("a chat sent on one process reaches the members on both, live and once", async () => {
    await t.fullStrength();
    const [coach, student] = [await createUser(t.db, "coach"), await createUser(t.db)];
    const roomId = await createRoom(t.db, [coach, student]);
    const sender = await t.client(t.stack.serverUrls[onA]!, student);
    const receivers = [await t.client(t.stack.serverUrls[onA]!, coach), await t.client(t.stack.serverUrls[onB]!, coach)];
    const live = [sender, ...receivers].map((c) => liveFrames(c, roomId));
    for (const c of [sender, ...receivers]) await c.join(roomId);
    const { seq } = await sender.send(roomId, { text: "bitti" }, "sharded-chat-1");
    await eventually(() => live.every((frames) => once(frames, seq).length > 0), "every socket got the chat live");
    assert.deepEqual(live.map((frames) => once(frames, seq).length), [1, 1, 1]);
  });

  test("the job worker's overdue notice reaches the coach's sockets on both processes live, and each student's redacted", async () => {
    await t.fullStrength();
    const coach = await createUser(t.db, "coach");
    const [done, missing] = [await createUser(t.db), await createUser(t.db)];
    const roomId = await createRoom(t.db, [coach, done!, missing!]);
    const coachOnA = await t.client(t.stack.serverUrls[onA]!, coach);
    const coachOnB = await t.client(t.stack.serverUrls[onB]!, coach);
    const doneOnB = await t.client(t.stack.serverUrls[onB]!, done!);
    const missingOnA = await t.client(t.stack.serverUrls[onA]!, missing!);
    const sockets = [coachOnA, coachOnB, doneOnB, missingOnA];
    const live = sockets.map((c) => liveFrames(c, roomId));
    for (const c of sockets) await c.join(roomId);

    // Urgent: the coach's quiet hours (22:00–07:00 UTC by default) must not hold it back.
    const { task } = await coachOnA.createTask({ roomId, title: "10 limit sorusu", dueAt: Date.now() + 3000, urgent: true });
    await doneOnB.reportProgress({ taskId: task.id, state: "done" });

    const notices = (frames: RoomEvent[]) => frames.filter((e) => e.kind === "notice");
    await eventually(() => live.every((frames) => notices(frames).length > 0), "the overdue notice reaches every member socket live", 30_000);
    const stored = await t.db.query<{ seq: number }>("SELECT seq FROM room_events WHERE room_id = $1 AND kind = 'notice'", [roomId]);
    assert.equal(stored.rows.length, 1, "one notice event in the log");
    const seq = stored.rows[0]!.seq;
    assert.deepEqual(live.map((frames) => notices(frames).map((e) => e.seq)), [[seq], [seq], [seq], [seq]], "each socket got it once");

    for (const frames of live.slice(0, 2)) {
      const body = notices(frames)[0]!.body as NoticeBody;
      assert.equal(body.notice, "overdue");
      assert.equal(body.userId, coach.id, "in full for the coach, on either process");
      assert.deepEqual(body.missed.map((m) => m.userId), [missing!.id]);
    }
    for (const frames of live.slice(2)) assert.deepEqual(notices(frames)[0]!.body, { notice: "overdue", redacted: true }, "redacted for a student");
  });
});
