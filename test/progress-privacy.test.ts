import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CoachClient } from "../protocol/client.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

// A student's progress is theirs and their coaches': with the room's shareProgress off (the
// default), classmates get each task.progress event redacted — `{redacted: true}`, no sender,
// no clientId — live, in the join backlog, in room:history and over REST, as notices are
// (notice-privacy.test.ts). A room coach turns sharing on (PATCH /api/rooms/:roomId or
// room:update); progress reported from then on reaches classmates in full, and what was
// reported before stays as it was.

const LIMITS = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_SEND_RATE_PER_S: "10000", COACHWIRE_SEND_BURST: "10000" };
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const driver of await availableDrivers()) {
  describe(`classmates' progress follows the room's shareProgress (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    let coach: TestUser;
    let ali: TestUser;
    let ayse: TestUser;
    let roomId: string;
    const live = new Map<string, RoomEvent[]>();
    let clients: Map<string, CoachClient>;
    /** Seqs of: ali's report before sharing, ayse's report while shared, ali's report after sharing was turned off. */
    let seqs: { private1: number; shared: number; private2: number };

    async function call(as: TestUser, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${await server.tokenFor(as)}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: await res.json() };
    }

    before(async () => {
      tdb = await openTestDatabase(driver);
      server = await startTestServer(tdb.db, LIMITS);
      coach = await createUser(tdb.db, "coach");
      [ali, ayse] = [await createUser(tdb.db), await createUser(tdb.db)];
      roomId = await createRoom(tdb.db, [coach, ali, ayse]);
      clients = new Map();
      for (const user of [coach, ali, ayse]) {
        const client = await server.client(user);
        const seen: RoomEvent[] = [];
        client.on("event", (e) => e.kind === "task.progress" && seen.push(e));
        await client.join(roomId);
        live.set(user.id, seen);
        clients.set(user.id, client);
      }
      const { task } = await clients.get(coach.id)!.createTask({ roomId, title: "Paragraf", target: 50 });
      const report = async (user: TestUser, solved: number) => (await clients.get(user.id)!.reportProgress({ taskId: task.id, correct: solved, wrong: 0 })).seq!;

      const before = await call(coach, "GET", `/api/rooms/${roomId}`);
      assert.equal(before.body.room.shareProgress, false, "off by default");
      const private1 = await report(ali, 7);
      const on = await call(coach, "PATCH", `/api/rooms/${roomId}`, { shareProgress: true });
      assert.equal(on.status, 200, JSON.stringify(on.body));
      assert.equal(on.body.room.shareProgress, true);
      const shared = await report(ayse, 9);
      // Off again, through the socket twin.
      const off = await clients.get(coach.id)!.updateRoom(roomId, { shareProgress: false });
      assert.equal(off.shareProgress, false);
      const private2 = await report(ali, 3);
      seqs = { private1, shared, private2 };
      await eventually(() => [...live.values()].every((seen) => seen.length === 3), "every member got the three progress events");
    });
    after(async () => {
      for (const c of clients.values()) c.close();
      await server.close();
      await tdb.drop();
    });

    /** What a member's view of the three reports says: whose and how many, or "redacted". */
    const view = (events: RoomEvent[]) =>
      events
        .filter((e) => e.kind === "task.progress")
        .map((e) => {
          const body = e.body as { redacted?: boolean; progress?: { userId: string; solved: number } };
          if (body.redacted) {
            assert.deepEqual([e.senderId, e.clientId, e.body], [null, null, { redacted: true }], "nothing of a redacted report leaks");
            return `${e.seq}: redacted`;
          }
          return `${e.seq}: ${body.progress!.userId === ali.id ? "ali" : "ayse"} ${body.progress!.solved}`;
        });
    const expected = () => ({
      coach: [`${seqs.private1}: ali 7`, `${seqs.shared}: ayse 9`, `${seqs.private2}: ali 10`],
      ali: [`${seqs.private1}: ali 7`, `${seqs.shared}: ayse 9`, `${seqs.private2}: ali 10`],
      ayse: [`${seqs.private1}: redacted`, `${seqs.shared}: ayse 9`, `${seqs.private2}: redacted`],
    });
    const who = () => [["coach", coach], ["ali", ali], ["ayse", ayse]] as const;

    test("live: coaches and the student see their report in full; classmates only what was reported while shared", () => {
      for (const [name, user] of who()) assert.deepEqual(view(live.get(user.id)!), expected()[name], `live for ${name}`);
    });

    test("room:history, REST history and a fresh join's backlog show each member the same view", async () => {
      for (const [name, user] of who()) {
        const client = await server.client(user);
        const page = await client.history(roomId, { after: 0, limit: 100 });
        assert.deepEqual(view(page.events), expected()[name], `room:history for ${name}`);
        const rest = await call(user, "GET", `/api/rooms/${roomId}/events?after=0&limit=100`);
        assert.deepEqual(view(rest.body.events), expected()[name], `REST for ${name}`);
        const backlog: RoomEvent[] = [];
        const rejoiner = await server.client(user);
        rejoiner.on("event", (e) => backlog.push(e));
        await rejoiner.join(roomId, 0);
        await eventually(() => backlog.filter((e) => e.kind === "task.progress").length === 3, `the backlog's progress for ${name}`);
        assert.deepEqual(view(backlog), expected()[name], `join backlog for ${name}`);
        client.close();
        rejoiner.close();
      }
    });

    test("each change of the setting is logged as room.updated, and only a change", async () => {
      const again = await call(coach, "PATCH", `/api/rooms/${roomId}`, { shareProgress: false });
      assert.equal(again.status, 200);
      const log = await call(coach, "GET", `/api/rooms/${roomId}/events?after=0&limit=100`);
      const updates = log.body.events.filter((e: Json) => e.kind === "room.updated").map((e: Json) => [e.senderId, e.body]);
      assert.deepEqual(updates, [
        [coach.id, { shareProgress: true }],
        [coach.id, { shareProgress: false }],
      ]);
    });
  });
}
