import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RoomEvent } from "../protocol/events.ts";
import { RequestError, type CoachClient } from "../protocol/client.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, storedEvents, type TestUser } from "./support/fixtures.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

// The core guarantees, end to end with real Socket.IO clients, on every available database.
for (const driver of await availableDrivers()) {
  describe(`rooms over Socket.IO (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    let coach: TestUser;
    let students: TestUser[];
    let roomId: string;

    before(async () => {
      tdb = await openTestDatabase(driver);
      server = await startTestServer(tdb.db, { COACHWIRE_SEND_RATE_PER_S: "1000", COACHWIRE_SEND_BURST: "1000" });
      coach = await createUser(tdb.db, "coach");
      students = [await createUser(tdb.db), await createUser(tdb.db), await createUser(tdb.db)];
      roomId = await createRoom(tdb.db, [coach, ...students]);
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    function collect(client: CoachClient): RoomEvent[] {
      const seen: RoomEvent[] = [];
      client.on("event", (e) => seen.push(e));
      return seen;
    }

    /** Everything delivered is one run of consecutive seqs (no gap, no repeat) ending at `head`. */
    function assertContiguousTo(events: RoomEvent[], head: number) {
      const first = events[0]!.seq;
      assertInOrderNoGaps(events, first, head);
    }

    function assertInOrderNoGaps(events: RoomEvent[], from: number, to: number) {
      assert.deepEqual(
        events.map((e) => e.seq),
        Array.from({ length: to - from + 1 }, (_, i) => from + i),
      );
    }

    test("N senders: every receiver gets every event once, in seq order, and the DB holds one row each", async () => {
      const clients = await Promise.all([coach, ...students].map((u) => server.client(u)));
      const seen = clients.map(collect);
      const start = (await Promise.all(clients.map((c) => c.join(roomId))))[0]!.lastSeq;
      const perSender = 25;
      const acks = await Promise.all(
        clients.map((c, i) =>
          Promise.all(Array.from({ length: perSender }, (_, n) => c.send(roomId, { text: `sender ${i} message ${n}` }))),
        ),
      );
      const total = clients.length * perSender;
      const seqs = acks.flat().map((a) => a.seq).sort((a, b) => a - b);
      assertInOrderNoGaps(seqs.map((seq) => ({ seq }) as RoomEvent), start + 1, start + total);
      await eventually(() => seen.every((s) => s.length >= total), "every receiver has every event");
      for (const s of seen) assertInOrderNoGaps(s, start + 1, start + total);
      const rows = await storedEvents(tdb.db, roomId);
      assert.equal(rows.length, start + total);
      assert.equal(new Set(rows.map((r) => r.client_id)).size, rows.length);
      for (const c of clients) c.close();
    });

    test("a resent clientId returns the original seq and stores one row", async () => {
      const client = await server.client(students[0]!);
      const first = await client.send(roomId, { text: "once" }, "fixed-client-id-1");
      const again = await client.send(roomId, { text: "once" }, "fixed-client-id-1");
      assert.equal(again.seq, first.seq);
      assert.equal(first.duplicate, false);
      assert.equal(again.duplicate, true);
      const rows = (await storedEvents(tdb.db, roomId)).filter((r) => r.client_id === "fixed-client-id-1");
      assert.equal(rows.length, 1);
      client.close();
    });

    test("a clientId is the sender's own: a member reusing another member's id gets a new seq, and the first sender's retry still dedupes", async () => {
      const [first, second] = [await server.client(students[0]!), await server.client(students[1]!)];
      const mine = await first.send(roomId, { text: "benim" }, "guessable-id-1");
      const theirs = await second.send(roomId, { text: "onun" }, "guessable-id-1");
      assert.equal(theirs.duplicate, false, "another member's id is not a repeat of theirs");
      assert.notEqual(theirs.seq, mine.seq);
      const retry = await first.send(roomId, { text: "benim" }, "guessable-id-1");
      assert.deepEqual([retry.seq, retry.duplicate], [mine.seq, true]);
      const rows = await tdb.db.query<{ seq: number; sender_id: string; body: { text: string } }>(
        "SELECT seq, sender_id, body FROM room_events WHERE room_id = $1 AND client_id = 'guessable-id-1' ORDER BY seq",
        [roomId],
      );
      assert.deepEqual(rows.rows.map((r) => [Number(r.seq), r.sender_id, r.body.text]), [
        [mine.seq, students[0]!.id, "benim"],
        [theirs.seq, students[1]!.id, "onun"],
      ]);
      first.close();
      second.close();
    });

    test("a client dropped mid-stream resumes from its cursor and misses nothing", async () => {
      const sender = await server.client(coach);
      const receiver = await server.client(students[1]!);
      const seen = collect(receiver);
      const { lastSeq } = await receiver.join(roomId);
      await sender.join(roomId);
      const sending = (async () => {
        for (let n = 0; n < 60; n++) await sender.send(roomId, { text: `stream ${n}` });
      })();
      await eventually(() => seen.length >= 10, "receiver got some events");
      receiver.socket.io.engine.close(); // transport drop; the SDK reconnects and rejoins with since
      await sending;
      const head = lastSeq + 60;
      await eventually(() => receiver.cursor(roomId) === head, "receiver caught up after reconnect");
      assertContiguousTo(seen, head);
      assert.ok(seen[0]!.seq <= lastSeq + 1);
      sender.close();
      receiver.close();
    });

    test("a gap left by a missed broadcast is filled from history", async () => {
      const sender = await server.client(coach);
      const receiver = await server.client(students[2]!);
      const seen = collect(receiver);
      const { lastSeq } = await receiver.join(roomId);
      // Unsubscribe the receiver on the server only: it misses broadcasts without knowing.
      server.io.in(receiver.socket.id!).socketsLeave(roomId);
      for (let n = 0; n < 5; n++) await sender.send(roomId, { text: `unseen ${n}` });
      server.io.in(receiver.socket.id!).socketsJoin(roomId);
      await sender.send(roomId, { text: "reveals the gap" });
      await eventually(() => receiver.cursor(roomId) === lastSeq + 6, "gap filled");
      assertContiguousTo(seen, lastSeq + 6);
      sender.close();
      receiver.close();
    });

    test("history pages by cursor in both directions, limit capped", async () => {
      const client = await server.client(coach);
      const { lastSeq } = await client.join(roomId);
      for (let n = lastSeq; n < 230; n++) await client.send(roomId, { text: `filler ${n}` });
      const latest = await client.history(roomId, { limit: 10 });
      assert.equal(latest.events.length, 10);
      assert.ok(latest.hasMore);
      const older = await client.history(roomId, { before: latest.events[0]!.seq, limit: 10 });
      assert.equal(older.events.at(-1)!.seq, latest.events[0]!.seq - 1);
      const forward = await client.history(roomId, { after: 0, limit: 5000 });
      assert.equal(forward.events.length, 200, "capped at COACHWIRE_HISTORY_LIMIT_MAX");
      assertInOrderNoGaps(forward.events, 1, 200);
      client.close();
    });

    test("a non-member can neither join, read nor write; an unknown room is ROOM_NOT_FOUND; nothing is written", async () => {
      const outsider = await createUser(tdb.db);
      const client = await server.client(outsider);
      const before = (await storedEvents(tdb.db, roomId)).length;
      for (const attempt of [
        () => client.join(roomId),
        () => client.history(roomId, { limit: 5 }),
        () => client.send(roomId, { text: "let me in" }),
      ]) {
        await assert.rejects(attempt, (err: unknown) => err instanceof RequestError && err.error.code === "NOT_A_MEMBER");
      }
      await assert.rejects(
        () => client.send("no-such-room", { text: "hello?" }),
        (err: unknown) => err instanceof RequestError && err.error.code === "ROOM_NOT_FOUND",
      );
      assert.equal((await storedEvents(tdb.db, roomId)).length, before);
      client.close();
    });
  });
}
