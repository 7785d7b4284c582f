import { RoomLogWriter } from "../server/log/log-transaction.ts";
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { Redis } from "ioredis";
import type { CoachClient } from "../protocol/client.ts";
import type { RoomEvent } from "../protocol/events.ts";
import type { Db } from "../db/db.ts";
import { Server } from "socket.io";
import { createFanout, type FanoutMode } from "../server/fanout/fanout.ts";
import type { CoachServer } from "../server/realtime/socket-types.ts";
import type { CommitSink } from "../server/log/persister.ts";
import { roomBroadcaster } from "../server/realtime/broadcaster.ts";
import { roomEmitter } from "../worker/room-emitter.ts";
import { sendNotice } from "../worker/notices.ts";
import { openPostgres, PG_URL, postgresAvailable, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { deleteKeys, freshPrefix, REDIS_URL, redisAvailable } from "./support/redis-keyspace.ts";
import { liveFrames } from "./support/room-stream.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

// The fan-out seam (server/fanout/fanout.ts), one suite for its three modes, against real
// PostgreSQL and Redis with a key prefix per test. In each mode: a room broadcast reaches every
// member socket on every server process; a private event (a student's task.progress, a notice)
// reaches its recipient's sockets and the coaches' in full and everyone else redacted; and a
// job worker's publish — built by worker/room-emitter.ts from the same config, as `npm run
// worker` builds it — reaches connected clients live. In-process there is one server process
// and the job runner publishes through it, as the embedded runner does.
//
// The servers run in this test process on the node:http transport (Socket.IO's uWS support
// patches the one Adapter prototype for the App last attached, so two uWS servers cannot share a
// process); test/stack-sharded.test.ts runs real processes on uWS. Every frame is read as it
// arrives on the socket (live broadcasts only), and counted: once per socket, no more.

interface Mode {
  mode: FanoutMode;
  servers: number;
  env: (prefix: string) => Record<string, string>;
  /** The job worker's commit sink in this mode. */
  workerSink: (servers: TestServer[], redis: Redis, prefix: string) => CommitSink;
}

const redisEnv = (adapter: "classic" | "sharded") => (prefix: string) => ({ REDIS_URL, COACHWIRE_REDIS_PREFIX: prefix, COACHWIRE_REDIS_ADAPTER: adapter });
const MODES: Mode[] = [
  // Without Redis the server runs the jobs itself and hands them its own broadcaster (app.ts).
  { mode: "in-process", servers: 1, env: () => ({}), workerSink: ([server]) => roomBroadcaster(server!.io) },
  { mode: "redis-classic", servers: 2, env: redisEnv("classic"), workerSink: (_, redis, prefix) => roomEmitter(redis, { url: REDIS_URL, prefix, adapter: "classic" }) },
  { mode: "redis-sharded", servers: 2, env: redisEnv("sharded"), workerSink: (_, redis, prefix) => roomEmitter(redis, { url: REDIS_URL, prefix, adapter: "sharded" }) },
];

const noPostgres = (await postgresAvailable()) ? false : `PostgreSQL is not reachable at ${PG_URL}`;
const noRedis = noPostgres || ((await redisAvailable()) ? false : `Redis is not reachable at ${REDIS_URL}`);

const BASE_ENV = {
  COACHWIRE_TRANSPORT: "node",
  COACHWIRE_SEND_RATE_PER_S: "1000",
  COACHWIRE_SEND_BURST: "1000",
  COACHWIRE_HTTP_RATE_PER_MIN: "1000000",
};

/** One socket of a member, and every frame of the room it was sent live. */
interface MemberSocket {
  user: TestUser;
  server: number;
  client: CoachClient;
  frames: RoomEvent[];
}

/** What a frame shows of a private event: in full (whose it is) or redacted. */
function view(event: RoomEvent): string {
  const body = event.body as { redacted?: boolean; userId?: string; progress?: { userId?: string } };
  if (body.redacted === true) return "redacted";
  return `full: ${event.kind === "task.progress" ? body.progress?.userId : body.userId}`;
}

for (const m of MODES) {
  describe(`fan-out conformance: ${m.mode}`, { skip: m.mode === "in-process" ? noPostgres : noRedis }, () => {
    let tdb: TestDatabase;
    let prefix: string;
    let servers: TestServer[];
    let workerRedis: Redis;
    let workerDb: Db;
    let workerSink: CommitSink;
    let coaches: TestUser[];
    let students: TestUser[];
    let roomId: string;
    let sockets: MemberSocket[];

    beforeEach(async () => {
      tdb = await openPostgres();
      prefix = freshPrefix();
      servers = [];
      for (let i = 0; i < m.servers; i++) servers.push(await startTestServer(i === 0 ? tdb.db : await tdb.openAnother(), { ...BASE_ENV, ...m.env(prefix) }));
      workerRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: m.mode === "in-process" });
      workerDb = await tdb.openAnother(); // closed by drop()
      workerSink = m.workerSink(servers, workerRedis, prefix);

      // Two coaches and three students, spread over the server processes; the first student has a
      // socket on each (every connection of a user gets what is meant for that user).
      coaches = [await createUser(tdb.db, "coach"), await createUser(tdb.db, "coach")];
      students = [await createUser(tdb.db), await createUser(tdb.db), await createUser(tdb.db)];
      roomId = await createRoom(tdb.db, [...coaches, ...students]);
      const placement: Array<[TestUser, number]> = [
        [coaches[0]!, 0],
        [coaches[1]!, 1],
        [students[0]!, 0],
        [students[0]!, 1],
        [students[1]!, 1],
        [students[2]!, 0],
      ];
      sockets = [];
      for (const [user, at] of placement) {
        const server = at % servers.length;
        const client = await servers[server]!.client(user);
        const frames = liveFrames(client, roomId);
        await client.join(roomId);
        sockets.push({ user, server, client, frames });
      }
    });
    afterEach(async () => {
      await Promise.all(servers.map((s) => s.close()));
      if (m.mode !== "in-process") await deleteKeys(workerRedis, prefix);
      workerRedis.disconnect();
      await tdb?.drop();
    });

    /** Waits until every socket has had the frame of `seq`, then returns each socket's frames of it. */
    async function framesOf(seq: number): Promise<RoomEvent[][]> {
      const of = (s: MemberSocket) => s.frames.filter((e) => e.seq === seq);
      await eventually(() => sockets.every((s) => of(s).length > 0), `every member socket got seq ${seq} live`);
      return sockets.map(of);
    }

    test("a room broadcast reaches every member socket on every server process, live and once", async () => {
      if (m.servers > 1) assert.deepEqual([...new Set(sockets.map((s) => s.server))].sort(), [0, 1], "members on both processes");
      const sender = sockets.find((s) => s.user === students[2])!;
      const { seq } = await sender.client.send(roomId, { text: "türev soruları bitti" }, "fanout-chat-1");
      const frames = await framesOf(seq);
      for (const [i, got] of frames.entries()) {
        assert.equal(got.length, 1, `socket ${i} (${sockets[i]!.user.role} on server ${sockets[i]!.server}) got it once`);
        assert.equal(got[0]!.kind, "chat");
        assert.deepEqual(got[0]!.body, { text: "türev soruları bitti" });
      }
    });

    test("a student's task.progress reaches the student's sockets and the coaches' in full, the classmates' redacted", async () => {
      const coach = sockets.find((s) => s.user === coaches[1])!;
      const { task } = await coach.client.createTask({ roomId, title: "40 limit sorusu", target: 40, dueAt: Date.now() + 86_400_000 });
      const reporter = sockets.find((s) => s.user === students[0] && s.server === 0)!;
      const { seq } = await reporter.client.reportProgress({ taskId: task.id, solved: 12, correct: 10, wrong: 2 });
      assert.ok(seq !== null, "the report was stored");
      const frames = await framesOf(seq);
      const expected = sockets.map((s) => (s.user.role === "coach" || s.user === students[0] ? `full: ${students[0]!.id}` : "redacted"));
      assert.deepEqual(frames.map((got) => got.map(view)), expected.map((v) => [v]), "one frame per socket: in full or redacted");
      for (const [i, got] of frames.entries()) {
        if (expected[i] === "redacted") {
          assert.deepEqual([got[0]!.senderId, got[0]!.clientId, got[0]!.body], [null, null, { redacted: true }], "nothing names the student");
        }
      }
    });

    test("a job worker's notice reaches its recipient's sockets and the coaches' in full, the rest redacted, live", async () => {
      const recipient = students[1]!;
      const seq = await sendNotice(new RoomLogWriter(workerDb, workerSink), {
        kind: "reminder",
        scopeId: "task-fanout",
        userId: recipient.id,
        windowKey: "60",
        roomId,
        body: { taskId: "task-fanout", title: "Paragraf" },
      });
      assert.ok(seq !== null, "the notice was stored");
      const frames = await framesOf(seq);
      const expected = sockets.map((s) => (s.user.role === "coach" || s.user === recipient ? `full: ${recipient.id}` : "redacted"));
      assert.deepEqual(frames.map((got) => got.map(view)), expected.map((v) => [v]), "one frame per socket: in full or redacted");
      for (const [i, got] of frames.entries()) {
        const body = got[0]!.body as Record<string, unknown>;
        if (expected[i] === "redacted") assert.deepEqual(body, { notice: "reminder", redacted: true });
        else assert.equal(body["title"], "Paragraf");
      }
    });
  });
}

// A job worker publishes from commit callbacks: a publish Redis refuses (it stayed away past the
// connection's retries) must come out as a reported error, not an unhandled rejection, which ends
// a Node 20 process. Nothing listens on port 1; the connection fails for real.
describe("fan-out: a publish Redis refuses is reported, never thrown", { skip: noRedis }, () => {
  for (const adapter of ["classic", "sharded"] as const) {
    test(`redis-${adapter}`, async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (err: unknown) => unhandled.push(err);
      process.on("unhandledRejection", onUnhandled);
      const dead = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: 0, retryStrategy: () => 200 });
      dead.on("error", () => {}); // the refused connection itself; the publishes report below
      try {
        const reported: unknown[] = [];
        const sink = roomEmitter(dead, { url: "redis://127.0.0.1:1", prefix: "test:unreachable:", adapter }, (err) => reported.push(err));
        const notice: RoomEvent = {
          roomId: "room-unreachable",
          seq: 1,
          kind: "notice",
          senderId: null,
          clientId: "notice:reminder:t:u:60",
          body: { notice: "reminder", userId: "student-u" },
          createdAt: Date.now(),
        };
        sink([notice]); // a private event: two publishes, the audience's and the rest's
        await eventually(() => reported.length === 2, "both of the job worker's failed publishes are reported");

        // A server's adapter publishing on the same dead connection (its subscriber still reaches
        // Redis) in a Socket.IO server that never listens. The sharded adapter catches its own
        // failures and says nothing; the classic one's go through the fan-out's report.
        const sub = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
        const io: CoachServer = new Server();
        const fanout = createFanout({ url: REDIS_URL, prefix: freshPrefix(), adapter }, { pub: dead, sub }, (err) => reported.push(err));
        fanout.attach(io);
        roomBroadcaster(fanout.publisher())([notice]);
        if (adapter === "classic") await eventually(() => reported.length === 4 || unhandled.length > 0, "the server's failed publishes are reported");
        await io.of("/").adapter.close();
        await sub.quit();
        await new Promise((resolve) => setImmediate(resolve)); // unhandled rejections surface by now
        assert.deepEqual(unhandled, []);
      } finally {
        process.off("unhandledRejection", onUnhandled);
        dead.disconnect();
      }
    });
  }
});
