import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before } from "node:test";
import type { Db } from "../../db/db.ts";
import type { EventDraft } from "../../server/log/append.ts";
import { openTestDatabase, type TestDatabase } from "./databases.ts";
import { createUser } from "./fixtures.ts";

/**
 * The database a conformance suite (db-conformance, log-conformance) runs on: one fresh test
 * database per suite with a coach to send as, and the rooms, drafts and seq readings both
 * suites write and check with. Call inside the suite's `describe`; it registers the
 * `before`/`after` that open and drop the database, so `tdb`, `db` and `senderId` are set
 * from the suite's first hook on.
 */
export function conformanceDatabase(driver: "pg" | "pglite") {
  let tdb: TestDatabase | undefined;
  let senderId: string | undefined;
  const opened = (): TestDatabase => {
    assert.ok(tdb, "the conformance database is opened in before()");
    return tdb;
  };
  const db = () => opened().db;
  const sender = (): string => {
    assert.ok(senderId, "the sender is created in before()");
    return senderId;
  };

  before(async () => {
    tdb = await openTestDatabase(driver);
    senderId = (await createUser(tdb.db, "coach")).id;
  });
  after(() => opened().drop());

  return {
    get tdb(): TestDatabase {
      return opened();
    },
    get db(): Db {
      return db();
    },
    /** The coach every draft is sent as. */
    get senderId(): string {
      return sender();
    },
    /** Options for a test or suite that needs several connections (PGlite has one). */
    pgOnly: { skip: driver === "pglite" && "PGlite is one connection in one process" },
    /** A new room with no events (last_seq 0). */
    async newRoom(): Promise<string> {
      const id = `room-${randomBytes(5).toString("hex")}`;
      await db().query("INSERT INTO rooms (id, name) VALUES ($1, $1)", [id]);
      return id;
    },
    /** A chat draft from the suite's coach; the text names the clientId unless given. */
    draft: (roomId: string, clientId: string | null, text = `text ${clientId}`): EventDraft =>
      ({ roomId, clientId, kind: "chat", senderId: sender(), body: { text } }),
    /** The seqs stored for a room, ascending. */
    seqs: async (roomId: string, on: Db = db()) =>
      (await on.query<{ seq: number }>("SELECT seq FROM room_events WHERE room_id = $1 ORDER BY seq", [roomId])).rows.map((r) => r.seq),
    /** The room's last_seq column. */
    lastSeq: async (roomId: string) =>
      (await db().query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1", [roomId])).rows[0]!.last_seq,
  };
}
