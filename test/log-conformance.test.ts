import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import pino from "pino";
import type { Db } from "../db/db.ts";
import { openDb } from "../db/open.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { appendEvents, type AppendOutcome, type EventDraft } from "../server/log/append.ts";
import { readAfter, readBefore } from "../server/log/history.ts";
import { Persister } from "../server/log/persister.ts";
import { conformanceDatabase } from "./support/conformance-database.ts";
import { createUser } from "./support/fixtures.ts";
import { availableDrivers, type TestDatabase } from "./support/databases.ts";

/** Reads as a coach of the room: the whole log, nothing redacted (what a viewer sees is tested in coaching-privacy). */
const COACH = { userId: "conformance-coach", role: "coach" } as const;

// The one write path over the database seam (appendEvents) and what is built on it — the
// Persister, history, several processes on one database — held to one contract on every
// available driver (STYLE.md rule 5). The seam itself is held to its own in db-conformance.test.ts.
const silent = pino({ level: "silent" });
const PENDING = Symbol("pending");
const isSettled = async (p: Promise<unknown>) => (await Promise.race([p, Promise.resolve(PENDING)])) !== PENDING;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

for (const driver of await availableDrivers()) {
  describe(`Log conformance (${driver})`, () => {
    const suite = conformanceDatabase(driver);
    const { pgOnly, newRoom, draft, seqs, lastSeq } = suite;
    let tdb: TestDatabase;
    let db: Db;
    let senderId: string;
    before(() => {
      ({ tdb, db, senderId } = suite);
    });
    const append = (drafts: EventDraft[], on: Db = db) => on.transaction((tx) => appendEvents(tx, drafts));
    const eventOf = (o: AppendOutcome | undefined): RoomEvent => {
      assert.ok(o && o.status !== "failed", `expected an event, got ${JSON.stringify(o)}`);
      return o.event;
    };

    describe("appendEvents", () => {
      test("seqs per room start at 1 and stay gap-free across batches and rooms; last_seq is the max", async () => {
        const [a, b, c] = [await newRoom(), await newRoom(), await newRoom()];
        const first = await append([draft(a, "a1"), draft(b, "b1"), draft(a, "a2"), draft(a, null)]);
        assert.deepEqual(first.map((o) => [o.status, eventOf(o).roomId, eventOf(o).seq]), [
          ["stored", a, 1], ["stored", b, 1], ["stored", a, 2], ["stored", a, 3],
        ]);
        await append([draft(b, "b2"), draft(c, "c1"), draft(b, "b3")]);
        await append([draft(c, "c2"), draft(a, "a4"), draft(c, "c3"), draft(c, "c4")]);
        for (const [room, n] of [[a, 4], [b, 3], [c, 4]] as const) {
          assert.deepEqual(await seqs(room), range(1, n), room);
          assert.equal(await lastSeq(room), n);
        }
      });

      test("the stored event is the draft with its seq, as history reads it back", async () => {
        const room = await newRoom();
        const [o] = await append([{ ...draft(room, "shape"), body: { text: "é 🎉 \"q\" \\ , {}" } }]);
        const stored = eventOf(o);
        assert.equal(o!.status, "stored");
        assert.deepEqual(stored, { ...stored, roomId: room, seq: 1, kind: "chat", senderId, clientId: "shape", body: { text: "é 🎉 \"q\" \\ , {}" } });
        assert.equal(typeof stored.createdAt, "number");
        assert.deepEqual((await readAfter(db, room, 0, 10, COACH)).events, [stored]);
      });

      test("a draft for an unknown room fails with ROOM_NOT_FOUND and the others in the batch are stored", async () => {
        const room = await newRoom();
        const outcomes = await append([draft(room, "k1"), draft("no-such-room", "k2"), draft(room, "k3")]);
        assert.deepEqual(outcomes.map((o) => o.status), ["stored", "failed", "stored"]);
        assert.equal(outcomes[1]!.status === "failed" && outcomes[1]!.error.code, "ROOM_NOT_FOUND");
        assert.deepEqual([eventOf(outcomes[0]).seq, eventOf(outcomes[2]).seq], [1, 2]);
        const onlyUnknown = await append([draft("no-such-room", "k4")]);
        assert.equal(onlyUnknown[0]!.status === "failed" && onlyUnknown[0]!.error.code, "ROOM_NOT_FOUND");
        assert.equal((await db.query("SELECT 1 FROM room_events WHERE room_id = 'no-such-room'")).rows.length, 0);
      });

      test("a clientId already stored is a duplicate with the original event and writes nothing", async () => {
        const room = await newRoom();
        const [original] = await append([draft(room, "dup-1", "original"), draft(room, "other")]);
        const again = await append([draft(room, "dup-1", "resent with a new body")]);
        assert.equal(again[0]!.status, "duplicate");
        assert.deepEqual(eventOf(again[0]), eventOf(original));
        const mixed = await append([draft(room, "dup-1"), draft(room, "fresh")]);
        assert.deepEqual(mixed.map((o) => [o.status, eventOf(o).seq]), [["duplicate", 1], ["stored", 3]]);
        assert.deepEqual(await seqs(room), [1, 2, 3]);
        assert.equal(await lastSeq(room), 3);
      });

      test("the same clientId twice in one batch is one row; the second is a duplicate of the first", async () => {
        const room = await newRoom();
        const outcomes = await append([draft(room, "twice", "first"), draft(room, "between"), draft(room, "twice", "second")]);
        assert.deepEqual(outcomes.map((o) => o.status), ["stored", "stored", "duplicate"]);
        assert.deepEqual(eventOf(outcomes[2]), eventOf(outcomes[0]));
        assert.deepEqual((await db.query("SELECT seq, body FROM room_events WHERE room_id = $1 AND client_id = 'twice'", [room])).rows, [{ seq: 1, body: { text: "first" } }]);
        assert.deepEqual(await seqs(room), [1, 2]);
      });

      test("null clientIds never collide; clientIds are scoped per room; 'NULL' is an ordinary clientId", async () => {
        const [a, b] = [await newRoom(), await newRoom()];
        await append([draft(a, null), draft(a, null), draft(a, "NULL")]);
        const next = await append([draft(a, null), draft(b, "NULL"), draft(a, "NULL"), draft(b, null)]);
        assert.deepEqual(next.map((o) => [o.status, eventOf(o).seq]), [["stored", 4], ["stored", 1], ["duplicate", 3], ["stored", 2]]);
        const rows = await db.query<{ client_id: string | null }>("SELECT client_id FROM room_events WHERE room_id = $1 ORDER BY seq", [a]);
        assert.deepEqual(rows.rows.map((r) => r.client_id), [null, null, "NULL", null]);
      });

      test("clientIds are scoped per sender: another sender's id is stored anew, the same sender's is a duplicate, senderless events share one scope", async () => {
        const room = await newRoom();
        const other = (await createUser(db, "student")).id;
        const [mine] = await append([draft(room, "shared-id", "mine")]);
        // Another member guessing (or reusing) the id neither suppresses nor is suppressed.
        const theirs = await append([{ ...draft(room, "shared-id", "theirs"), senderId: other }, draft(room, "shared-id", "mine again")]);
        assert.deepEqual(theirs.map((o) => [o.status, eventOf(o).seq, eventOf(o).senderId]), [["stored", 2, other], ["duplicate", 1, senderId]]);
        assert.deepEqual((eventOf(theirs[0]).body as { text: string }).text, "theirs");
        assert.deepEqual(eventOf(theirs[1]), eventOf(mine));
        const again = await append([{ ...draft(room, "shared-id", "theirs resent"), senderId: other }]);
        assert.deepEqual(again.map((o) => [o.status, eventOf(o).seq]), [["duplicate", 2]]);
        // Events without a sender (the job worker's notices) still find their first copy.
        const notice = { ...draft(room, "notice:x"), senderId: null };
        const notices = await append([notice, notice]);
        assert.deepEqual(notices.map((o) => [o.status, eventOf(o).seq]), [["stored", 3], ["duplicate", 3]]);
        assert.deepEqual(await seqs(room), [1, 2, 3]);
        // The database itself holds the rule: one row per (room, sender, clientId).
        await assert.rejects(
          db.query("INSERT INTO room_events (room_id, seq, client_id, kind, sender_id, body) VALUES ($1, 99, 'shared-id', 'chat', $2, '{}')", [room, other]),
          (err: { code?: string }) => err.code === "23505",
        );
      });
    });

    describe("Persister", () => {
      function persister(options: { flushMs: number; flushMaxEvents: number }) {
        const committed: RoomEvent[][] = [];
        const flushes: number[] = [];
        const p = new Persister(db, options, (events) => committed.push(events), silent);
        p.on("flush", ({ size }: { size: number }) => flushes.push(size));
        return { p, committed, flushes };
      }

      test("concurrent appends for several rooms are batched, answered right, and committed in seq order", async () => {
        const rooms = [await newRoom(), await newRoom(), await newRoom()];
        const { p, committed, flushes } = persister({ flushMs: 5, flushMaxEvents: 16 });
        const drafts = range(0, 59).map((i) => draft(rooms[i % 3]!, `p-${i}`));
        drafts.push(draft("no-such-room", "p-lost"), draft(rooms[0]!, "p-0", "resent"));
        const outcomes = await Promise.all(drafts.map((d) => p.append(d)));
        await p.close();

        assert.equal(flushes.reduce((sum, n) => sum + n, 0), drafts.length);
        assert.ok(flushes.some((n) => n > 1), `batched: ${flushes}`);
        for (const [i, o] of outcomes.slice(0, 60).entries()) {
          assert.equal(o.status, "stored");
          assert.deepEqual(eventOf(o), { ...eventOf(o), roomId: rooms[i % 3], clientId: `p-${i}`, seq: Math.floor(i / 3) + 1, body: { text: `text p-${i}` } });
        }
        assert.equal(outcomes[60]!.status === "failed" && outcomes[60]!.error.code, "ROOM_NOT_FOUND");
        assert.equal(outcomes[61]!.status, "duplicate");
        assert.deepEqual(eventOf(outcomes[61]), eventOf(outcomes[0]));

        const sunk = committed.flat();
        assert.deepEqual(sunk.map((e) => e.clientId).sort(), range(0, 59).map((i) => `p-${i}`).sort(), "each stored event reaches the sink once");
        for (const room of rooms) {
          assert.deepEqual(sunk.filter((e) => e.roomId === room).map((e) => e.seq), range(1, 20), "ascending per room");
          assert.deepEqual(await seqs(room), range(1, 20));
        }
      });

      test("close() writes what is queued; afterwards append resolves failed/UNAVAILABLE and writes nothing", async () => {
        const room = await newRoom();
        const { p, committed, flushes } = persister({ flushMs: 60_000, flushMaxEvents: 1000 });
        const queued = range(1, 5).map((i) => p.append(draft(room, `c-${i}`)));
        assert.equal(await isSettled(queued[0]!), false, "nothing is written before the batch is due");
        await p.close();
        for (const q of queued) assert.ok(await isSettled(q), "close() waited for the queued events");
        assert.deepEqual((await Promise.all(queued)).map((o) => [o.status, eventOf(o).seq]), range(1, 5).map((s) => ["stored", s]));
        assert.deepEqual(flushes, [5]);
        assert.deepEqual(committed.flat().map((e) => e.seq), range(1, 5));
        const late = await p.append(draft(room, "too-late"));
        assert.equal(late.status === "failed" && late.error.code, "UNAVAILABLE");
        assert.deepEqual(await seqs(room), range(1, 5));
      });

      test("a draft PostgreSQL refuses (U+0000 in the text, which chatBodySchema accepts) fails alone; the rest of its batch is stored", async () => {
        const [a, b] = [await newRoom(), await newRoom()];
        const { p } = persister({ flushMs: 60_000, flushMaxEvents: 3 });
        const outcomes = await Promise.all([draft(a, "fine-1"), draft(b, "poison", "nul \u0000 byte"), draft(a, "fine-2")].map((d) => p.append(d)));
        await p.close();
        assert.equal(outcomes[1]!.status, "failed");
        assert.deepEqual(outcomes.map((o) => o.status), ["stored", "failed", "stored"], "the other senders' events are not refused with it");
        assert.deepEqual(await seqs(a), [1, 2]);
      });
    });

    describe("history", () => {
      let room: string;
      before(async () => {
        room = await newRoom();
        const noise = await newRoom();
        for (let batch = 0; batch < 5; batch++) {
          await append(range(1, 5).flatMap((n) => [draft(room, `h-${batch}-${n}`), draft(noise, null)]));
        }
      });
      const seqsOf = (page: { events: RoomEvent[] }) => page.events.map((e) => e.seq);

      for (const via of ["primary", "reader"] as const) {
        test(`readAfter pages forward in ascending order; hasMore is exact at the boundary (${via})`, async () => {
          const q = via === "reader" ? db.reader : db;
          const cases: Array<[number, number, number[], boolean]> = [
            [0, 10, range(1, 10), true], [10, 10, range(11, 20), true], [15, 10, range(16, 25), false],
            [20, 10, range(21, 25), false], [25, 10, [], false], [0, 25, range(1, 25), false], [0, 24, range(1, 24), true],
          ];
          for (const [afterSeq, limit, expected, hasMore] of cases) {
            const page = await readAfter(q, room, afterSeq, limit, COACH);
            assert.deepEqual([seqsOf(page), page.hasMore], [expected, hasMore], `after ${afterSeq} limit ${limit}`);
          }
          assert.ok((await readAfter(q, room, 0, 25, COACH)).events.every((e) => e.roomId === room));
        });

        test(`readBefore pages backward, each page ascending; no before = newest page (${via})`, async () => {
          const q = via === "reader" ? db.reader : db;
          const cases: Array<[number | undefined, number, number[], boolean]> = [
            [undefined, 10, range(16, 25), true], [16, 10, range(6, 15), true], [11, 10, range(1, 10), false],
            [6, 10, range(1, 5), false], [1, 10, [], false], [undefined, 25, range(1, 25), false], [undefined, 24, range(2, 25), true],
          ];
          for (const [beforeSeq, limit, expected, hasMore] of cases) {
            const page = await readBefore(q, room, beforeSeq, limit, COACH);
            assert.deepEqual([seqsOf(page), page.hasMore], [expected, hasMore], `before ${beforeSeq} limit ${limit}`);
          }
          assert.deepEqual(await readBefore(q, "no-such-room", undefined, 10, COACH), { events: [], hasMore: false });
        });
      }
    });

    describe("several processes on one database (pg only)", pgOnly, () => {
      test("two handles appending concurrently to the same rooms never deadlock and keep seqs gap-free and clientIds unique", async () => {
        const other = await tdb.openAnother();
        const rooms = [await newRoom(), await newRoom()];
        // 200 drafts per handle over both rooms; every 4th clientId is sent by both handles.
        const draftsFor = (h: number) =>
          range(0, 199).map((k) =>
            k % 4 === 0 ? draft(rooms[(k / 4) % 2]!, `shared-${k}`) : draft(rooms[(k + h) % 2]!, `h${h}-${k}`),
          );
        const batchesFor = (h: number) =>
          range(0, 19).map((i) => {
            const batch = draftsFor(h).slice(i * 10, i * 10 + 10);
            return h === 1 ? batch.reverse() : batch;
          });
        const results = await Promise.all(
          [db, other].flatMap((handle, h) => batchesFor(h).map(async (batch) => ({ batch, outcomes: await append(batch, handle) }))),
        );

        const storedAt = new Map<string, number>();
        const all = results.flatMap(({ batch, outcomes }) => outcomes.map((o, i) => ({ d: batch[i]!, o })));
        for (const { d, o } of all.filter((x) => x.o.status === "stored")) {
          const key = `${d.roomId}/${d.clientId}`;
          assert.ok(!storedAt.has(key), `${key} stored twice`);
          storedAt.set(key, eventOf(o).seq);
        }
        for (const { d, o } of all) {
          assert.notEqual(o.status, "failed");
          assert.equal(eventOf(o).seq, storedAt.get(`${d.roomId}/${d.clientId}`), "a duplicate answers with the stored seq");
        }
        assert.equal(storedAt.size, 350, "150 own clientIds per handle + 50 shared");
        for (const room of rooms) {
          const rows = await db.query<{ seq: number; client_id: string }>("SELECT seq, client_id FROM room_events WHERE room_id = $1 ORDER BY seq", [room]);
          assert.deepEqual(rows.rows.map((r) => r.seq), range(1, rows.rows.length), "gap-free");
          assert.equal(new Set(rows.rows.map((r) => r.client_id)).size, rows.rows.length, "one row per clientId");
          assert.equal(await lastSeq(room), rows.rows.length);
          for (const r of rows.rows) assert.equal(storedAt.get(`${room}/${r.client_id}`), r.seq);
        }
      });

      test("with DATABASE_REPLICA_URL the reader is its own pool on the same schema", async () => {
        const replicated = await openDb({ url: tdb.url, replicaUrl: tdb.url, schema: tdb.schema, poolSize: 1 });
        try {
          const room = await newRoom();
          await append(range(1, 3).map((n) => draft(room, `r-${n}`)), replicated);
          const page = await readAfter(replicated.reader, room, 0, 10, COACH);
          assert.deepEqual(page.events.map((e) => e.clientId), ["r-1", "r-2", "r-3"]);
          assert.deepEqual((await readBefore(replicated.reader, room, 3, 1, COACH)).events.map((e) => e.seq), [2]);
          const pid = async (q: Pick<Db, "query">) => (await q.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
          assert.notEqual(await pid(replicated.reader), await pid(replicated), "reads go to the replica pool, not the primary's one connection");
        } finally {
          await replicated.close();
        }
      });
    });
  });
}
