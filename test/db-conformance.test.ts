import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, describe, test } from "node:test";
import type { Db } from "../db/db.ts";
import { listMigrations, migrate } from "../db/migrate.ts";
import { openPg } from "../db/pg.ts";
import { openPglite } from "../db/pglite.ts";
import { appendEvents } from "../server/log/append.ts";
import { conformanceDatabase } from "./support/conformance-database.ts";
import { availableDrivers } from "./support/databases.ts";

// The database seam (db/db.ts), held to one contract on every available driver (STYLE.md
// rule 5). A difference between the drivers is a failure here. The one write path over it,
// and what is built on that, are held to theirs in log-conformance.test.ts.
const versions = () => listMigrations().map((m) => m.version);

for (const driver of await availableDrivers()) {
  describe(`Db conformance (${driver})`, () => {
    const suite = conformanceDatabase(driver);
    const { pgOnly, newRoom, draft, seqs, lastSeq } = suite;
    let db: Db;
    before(() => {
      db = suite.db;
    });

    /** A database with no migrations applied yet, for watching `migrate` from the start. */
    async function openUnmigrated(suffix: string): Promise<{ open(): Promise<Db>; dispose(): Promise<void> }> {
      if (driver === "pglite") {
        const only = await openPglite({ dataDir: "memory://" });
        return { open: async () => only, dispose: () => only.close() };
      }
      const { schema: suiteSchema, url } = suite.tdb;
      const [schema, handles] = [`${suiteSchema}_${suffix}`, [] as Db[]];
      const open = async () => handles[handles.push(await openPg({ url: url!, schema, poolSize: 2 })) - 1]!;
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
  });
}
