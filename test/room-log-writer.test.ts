import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RoomEvent } from "../protocol/events.ts";
import { CoachwireError } from "../protocol/errors.ts";
import { RoomLogWriter, type LogTransaction } from "../server/log/log-transaction.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, storedEvents } from "./support/fixtures.ts";

// The coaching writer group-commits: changes queued while a transaction runs go together in the
// next one, each under a savepoint. Deterministic without timing: write() starts a batch at once
// for an idle room, so the first change of a room runs alone and the ones queued behind it in the
// same tick form the next batch.

for (const driver of await availableDrivers()) {
  describe(`RoomLogWriter group commit (${driver})`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await openTestDatabase(driver);
    });
    after(async () => {
      await tdb?.drop();
    });

    /** A change that stores one chat-kind event (and, inside its transaction, tells which transaction it ran in). */
    const change = (roomId: string, senderId: string, text: string, fail = false) => async (log: LogTransaction) => {
      await log.lockRoom(roomId);
      const tx = await log.tx.query<{ txid: string }>("SELECT txid_current()::text AS txid");
      const [outcome] = await log.append([{ roomId, clientId: `c-${text}`, kind: "chat", senderId, body: { text } }]);
      // Written, then refused: its savepoint must take the event back.
      if (fail) throw new CoachwireError("COUNT_OUT_OF_RANGE", `refused ${text}`);
      return { txid: tx.rows[0]!.txid, seq: outcome!.status === "stored" ? outcome!.event.seq : -1 };
    };

    test("changes queued behind a room's running one commit in one transaction; a refused one alone is rolled back; seqs stay gap-free and in order", async () => {
      const coach = await createUser(tdb.db, "coach");
      const roomId = await createRoom(tdb.db, [coach]);
      const published: RoomEvent[][] = [];
      const writer = new RoomLogWriter(tdb.db, (events) => published.push(events));
      const first = writer.write(roomId, change(roomId, coach.id, "a"));
      const queued = [
        writer.write(roomId, change(roomId, coach.id, "b")),
        writer.write(roomId, change(roomId, coach.id, "bad", true)),
        writer.write(roomId, change(roomId, coach.id, "c")),
      ];
      const settled = await Promise.allSettled([first, ...queued]);
      const [a, b, bad, c] = settled;
      assert.equal(a!.status, "fulfilled");
      assert.equal(b!.status, "fulfilled");
      assert.equal(c!.status, "fulfilled");
      assert.equal(bad!.status, "rejected");
      assert.equal(((bad as PromiseRejectedResult).reason as CoachwireError).code, "COUNT_OUT_OF_RANGE");
      const [ra, rb, rc] = [a, b, c].map((s) => (s as PromiseFulfilledResult<{ txid: string; seq: number }>).value);
      assert.notEqual(ra!.txid, rb!.txid, "the first change ran alone");
      assert.equal(rb!.txid, rc!.txid, "the two queued behind it shared one transaction");
      assert.deepEqual([ra!.seq, rb!.seq, rc!.seq], [1, 2, 3], "the refused change took no seq");
      assert.deepEqual(
        (await storedEvents(tdb.db, roomId)).map((e) => [e.seq, e.body.text]),
        [
          [1, "a"],
          [2, "b"],
          [3, "c"],
        ],
      );
      assert.deepEqual(
        published.flat().map((e) => e.seq),
        [1, 2, 3],
        "each committed event published once, in seq order, none of the refused one",
      );
    });

    test("one batch spans rooms: changes of idle rooms queued behind busy ones commit together", async () => {
      const coach = await createUser(tdb.db, "coach");
      const [r1, r2] = [await createRoom(tdb.db, [coach]), await createRoom(tdb.db, [coach])];
      const writer = new RoomLogWriter(tdb.db, () => {}, { maxBatches: 1, maxBatchSize: 128 });
      const running = writer.write(r1, change(r1, coach.id, "x1"));
      const behind = [writer.write(r1, change(r1, coach.id, "x2")), writer.write(r2, change(r2, coach.id, "y1"))];
      const [x1, x2, y1] = await Promise.all([running, behind[0]!, behind[1]!]);
      assert.notEqual(x1.txid, x2.txid);
      assert.equal(x2.txid, y1.txid, "two rooms, one transaction");
      assert.deepEqual([x1.seq, x2.seq, y1.seq], [1, 2, 1]);
    });

    test("a failure of the whole transaction is retried change by change: the others still commit", async () => {
      const coach = await createUser(tdb.db, "coach");
      const roomId = await createRoom(tdb.db, [coach]);
      const writer = new RoomLogWriter(tdb.db, () => {});
      const first = writer.write(roomId, change(roomId, coach.id, "p"));
      let runs = 0;
      // A change that breaks its savepoint's own bookkeeping (releases it early): the batch's
      // ROLLBACK TO then fails, so the whole transaction does.
      const breaking = writer.write(roomId, async (log) => {
        runs++;
        await log.tx.query("RELEASE SAVEPOINT coachwire_change");
        throw new CoachwireError("VALIDATION_FAILED", "broken");
      });
      const after = writer.write(roomId, change(roomId, coach.id, "q"));
      const settled = await Promise.allSettled([first, breaking, after]);
      assert.deepEqual(
        settled.map((s) => s.status),
        ["fulfilled", "rejected", "fulfilled"],
      );
      assert.equal(runs, 2, "in the batch, then alone");
      assert.deepEqual(
        (await storedEvents(tdb.db, roomId)).map((e) => e.body.text),
        ["p", "q"],
      );
    });
  });
}
