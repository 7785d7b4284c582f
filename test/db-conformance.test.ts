import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pino from "pino";
import type { Db } from "../db/db.ts";
import { listMigrations, migrate } from "../db/migrate.ts";
import { openDb } from "../db/open.ts";
import { openPg } from "../db/pg.ts";
import { openPglite } from "../db/pglite.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { appendEvents, type AppendOutcome, type EventDraft } from "../server/log/append.ts";
import { readAfter, readBefore } from "../server/log/history.ts";
import { Persister } from "../server/log/persister.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createUser } from "./support/fixtures.ts";

// The database seam (db/db.ts) and the one write path over it, held to one contract on every
// available driver (STYLE.md rule 5). A difference between the drivers is a failure here.
const silent = pino({ level: "silent" });
const PENDING = Symbol("pending");
const isSettled = async (p: Promise<unknown>) => (await Promise.race([p, Promise.resolve(PENDING)])) !== PENDING;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const versions = () => listMigrations().map((m) => m.version);

for (const driver of await availableDrivers()) {
  describe(`Db conformance (${driver})`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let senderId: string;
    const pgOnly = { skip: driver === "pglite" && "PGlite is one connection in one process" };

    before(async () => {
      tdb = await openTestDatabase(driver);
      db = tdb.db;
      senderId = (await createUser(db, "coach")).id;
    });
    after(() => tdb.drop());

    async function newRoom(): Promise<string> {
      const id = `room-${randomBytes(5).toString("hex")}`;
      await db.query("INSERT INTO rooms (id, name) VALUES ($1, $1)", [id]);
      return id;
    }
    const draft = (roomId: string, clientId: string | null, text = `text ${clientId}`): EventDraft =>
      ({ roomId, clientId, kind: "chat", senderId, body: { text } });
    const append = (drafts: EventDraft[], on: Db = db) => on.transaction((tx) => appendEvents(tx, drafts));
    const seqs = async (roomId: string, on: Db = db) =>
      (await on.query<{ seq: number }>("SELECT seq FROM room_events WHERE room_id = $1 ORDER BY seq", [roomId])).rows.map((r) => r.seq);
    const lastSeq = async (roomId: string) =>
      (await db.query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1", [roomId])).rows[0]!.last_seq;
    const eventOf = (o: AppendOutcome | undefined): RoomEvent => {
      assert.ok(o && o.status !== "failed", `expected an event, got ${JSON.stringify(o)}`);
      return o.event;
    };

    /** A database with no migrations applied yet, for watching `migrate` from the start. */
    async function openUnmigrated(suffix: string): Promise<{ open(): Promise<Db>; dispose(): Promise<void> }> {
      if (driver === "pglite") {
        const only = await openPglite({ dataDir: "memory://" });
        return { open: async () => only, dispose: () => only.close() };
      }
      const [schema, handles] = [`${tdb.schema}_${suffix}`, [] as Db[]];
      const open = async () => handles[handles.push(await openPg({ url: tdb.url!, schema, poolSize: 2 })) - 1]!;
      const dispose = async () => {
        await db.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await Promise.all(handles.map((h) => h.close()));
      };
      return { open, dispose };
    }

    describe("migrations", () => {
      test("a fresh database gets every migration in order, recorded in schema_migrations", async () => {
        const fresh = await openUnmigrated("fresh");
        try {
          const target = await fresh.open();
          const expected = versions();
          assert.ok(expected.length > 0);
          assert.deepEqual(expected, [...expected].sort((a, b) => a - b));
          assert.deepEqual(await migrate(target), expected);
          const ledger = await target.query("SELECT version, name FROM schema_migrations ORDER BY applied_at, version");
          assert.deepEqual(ledger.rows, listMigrations().map(({ version, name }) => ({ version, name })));
          assert.deepEqual(await migrate(target), [], "a second run applies nothing");
        } finally {
          await fresh.dispose();
        }
      });

      test("the suite's database is fully migrated and migrating it again applies nothing", async () => {
        const ledger = await db.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
        assert.deepEqual(ledger.rows.map((r) => r.version), versions());
        assert.deepEqual(await migrate(db), []);
        assert.equal((await db.query("SELECT version FROM schema_migrations")).rows.length, versions().length);
      });

      test("two processes migrating one database at once apply each migration exactly once", pgOnly, async () => {
        const fresh = await openUnmigrated("race");
        try {
          const [a, b] = [await fresh.open(), await fresh.open()];
          const applied = (await Promise.all([migrate(a), migrate(b)])).flat().sort((x, y) => x - y);
          assert.deepEqual(applied, versions());
          const ledger = await a.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
          assert.deepEqual(ledger.rows.map((r) => r.version), applied);
        } finally {
          await fresh.dispose();
        }
      });
    });

    describe("query and exec", () => {
      test("the handle says which driver it is and answers ping; all connections idle at rest", async () => {
        assert.equal(db.driver, driver);
        await db.ping();
        const stats = db.poolStats();
        assert.ok(stats.total >= 1 && stats.idle === stats.total && stats.waiting === 0, JSON.stringify(stats));
      });

      test("int8 is a number, timestamptz a Date, jsonb an object; array and null parameters round-trip", async () => {
        const at = new Date("2024-02-29T12:34:56.789Z");
        const doc = { text: 'quote " backslash \\ comma , {braces} NULL 🎉', nested: { list: [1, "two", null] } };
        const names = ["plain", null, "NULL", 'q"u,o{t}e\\', ""];
        const { rows } = await db.query<Record<string, unknown>>(
          `SELECT $1::int8 AS big, 9007199254740991::int8 AS max_safe, count(*) AS n, $2::timestamptz AS at,
                  $3::jsonb AS doc, $4::text[] AS names, $5::int8 AS none,
                  (SELECT count(*) FROM unnest($6::int8[]) AS x WHERE x > 1) AS above_one`,
          [42, at, JSON.stringify(doc), names, null, [1, 2, 3]],
        );
        const row = rows[0]!;
        assert.ok(row["at"] instanceof Date);
        const expected = { big: 42, max_safe: Number.MAX_SAFE_INTEGER, n: 1, at: at.getTime(), doc, names, none: null, above_one: 2 };
        assert.deepEqual({ ...row, at: row["at"].getTime() }, expected);
        const room = await newRoom();
        const stored = (await db.query("SELECT last_seq, created_at FROM rooms WHERE id = $1", [room])).rows[0]!;
        assert.ok(stored["last_seq"] === 0 && stored["created_at"] instanceof Date, "columns read back typed, too");
      });

      test("int8[] comes back as number[] (bigint columns are numbers, in arrays too)", async () => {
        const { rows } = await db.query<{ seqs: unknown }>("SELECT ARRAY[1, 2, 3]::int8[] AS seqs");
        assert.deepEqual(rows[0]!.seqs, [1, 2, 3]);
      });

      test("exec runs several statements; rowCount counts returned or affected rows", async () => {
        await db.exec(`CREATE TABLE conformance_scratch (n int PRIMARY KEY);
                       INSERT INTO conformance_scratch SELECT generate_series(1, 4);`);
        assert.equal((await db.query("INSERT INTO conformance_scratch VALUES (5), (6)")).rowCount, 2);
        assert.equal((await db.query("UPDATE conformance_scratch SET n = n + 10 WHERE n > 3")).rowCount, 3);
        assert.equal((await db.query("UPDATE conformance_scratch SET n = n WHERE n < 0")).rowCount, 0);
        const selected = await db.query("SELECT n FROM conformance_scratch WHERE n < $1 ORDER BY n", [10]);
        assert.deepEqual(selected.rows, [{ n: 1 }, { n: 2 }, { n: 3 }]);
        assert.equal(selected.rowCount, 3, "a SELECT's rowCount is the number of rows it returned");
        await assert.rejects(() => db.exec("SELECT 1; SELEC broken"));
        await db.exec("DROP TABLE conformance_scratch");
      });
    });

    describe("transaction", () => {
      test("commit persists and returns fn's value", async () => {
        const room = `room-tx-${randomBytes(4).toString("hex")}`;
        const value = await db.transaction(async (tx) => {
          await tx.query("INSERT INTO rooms (id, name) VALUES ($1, 'tx')", [room]);
          return (await tx.query<{ n: number }>("SELECT count(*) AS n FROM rooms WHERE id = $1", [room])).rows[0]!.n;
        });
        assert.equal(value, 1);
        assert.equal((await db.query("SELECT 1 FROM rooms WHERE id = $1", [room])).rows.length, 1);
      });

      test("a throw inside rolls back everything written in it and rethrows the same error", async () => {
        const room = await newRoom();
        const boom = new Error("boom");
        await assert.rejects(
          db.transaction(async (tx) => {
            await appendEvents(tx, [draft(room, "rolled-back-1"), draft(room, "rolled-back-2")]);
            await tx.exec("UPDATE rooms SET name = 'renamed'");
            throw boom;
          }),
          (err) => err === boom,
        );
        assert.deepEqual(await seqs(room), []);
        assert.equal(await lastSeq(room), 0);
        assert.equal((await db.query("SELECT 1 FROM rooms WHERE name = 'renamed'")).rows.length, 0);
      });

      test("a failing statement rejects the transaction and rolls back the writes before it", async () => {
        const room = await newRoom();
        await assert.rejects(
          db.transaction(async (tx) => {
            await appendEvents(tx, [draft(room, "before-failure")]);
            await tx.query("INSERT INTO rooms (id, name) VALUES ($1, 'dup')", [room]);
          }),
          /duplicate key/,
        );
        assert.deepEqual(await seqs(room), []);
      });

      test("a statement error swallowed inside fn still makes transaction() reject, since COMMIT rolled back", async () => {
        const room = `room-swallow-${randomBytes(4).toString("hex")}`;
        const outcome = await db
          .transaction(async (tx) => {
            await tx.query("INSERT INTO rooms (id, name) VALUES ($1, 'x')", [room]);
            await tx.query("INSERT INTO rooms (id, name) VALUES ($1, 'x')", [room]).catch(() => undefined);
            return "resolved";
          })
          .then((v) => v, () => "rejected");
        assert.equal((await db.query("SELECT 1 FROM rooms WHERE id = $1", [room])).rows.length, 0, "the aborted transaction wrote nothing");
        assert.equal(outcome, "rejected", "transaction() resolved although COMMIT rolled back");
      });

      test("after commits and rollbacks every connection is back in the pool", async () => {
        for (let i = 0; i < 12; i++) {
          await db.transaction(async (tx) => {
            await tx.query("SELECT 1");
            if (i % 2) throw new Error("rollback");
          }).catch(() => undefined);
        }
        const stats = db.poolStats();
        assert.ok(stats.idle === stats.total && stats.waiting === 0, JSON.stringify(stats));
      });
    });

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
        assert.deepEqual((await readAfter(db, room, 0, 10)).events, [stored]);
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
            const page = await readAfter(q, room, afterSeq, limit);
            assert.deepEqual([seqsOf(page), page.hasMore], [expected, hasMore], `after ${afterSeq} limit ${limit}`);
          }
          assert.ok((await readAfter(q, room, 0, 25)).events.every((e) => e.roomId === room));
        });

        test(`readBefore pages backward, each page ascending; no before = newest page (${via})`, async () => {
          const q = via === "reader" ? db.reader : db;
          const cases: Array<[number | undefined, number, number[], boolean]> = [
            [undefined, 10, range(16, 25), true], [16, 10, range(6, 15), true], [11, 10, range(1, 10), false],
            [6, 10, range(1, 5), false], [1, 10, [], false], [undefined, 25, range(1, 25), false], [undefined, 24, range(2, 25), true],
          ];
          for (const [beforeSeq, limit, expected, hasMore] of cases) {
            const page = await readBefore(q, room, beforeSeq, limit);
            assert.deepEqual([seqsOf(page), page.hasMore], [expected, hasMore], `before ${beforeSeq} limit ${limit}`);
          }
          assert.deepEqual(await readBefore(q, "no-such-room", undefined, 10), { events: [], hasMore: false });
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
          const page = await readAfter(replicated.reader, room, 0, 10);
          assert.deepEqual(page.events.map((e) => e.clientId), ["r-1", "r-2", "r-3"]);
          assert.deepEqual((await readBefore(replicated.reader, room, 3, 1)).events.map((e) => e.seq), [2]);
          const pid = async (q: Pick<Db, "query">) => (await q.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
          assert.notEqual(await pid(replicated.reader), await pid(replicated), "reads go to the replica pool, not the primary's one connection");
        } finally {
          await replicated.close();
        }
      });
    });
  });
}
