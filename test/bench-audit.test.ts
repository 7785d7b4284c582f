import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { audit } from "../bench/audit.ts";
import type { ClientResult, UserAudit } from "../bench/client-proc.ts";
import { appendEvents } from "../server/log/append.ts";
import { openPgliteMemory, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser } from "./support/fixtures.ts";

// The bench's audit must catch what it exists to catch: an acked send missing from the
// database, a message stored twice, a user who skipped or repeated a seq or fell behind.
describe("bench audit", () => {
  let tdb: TestDatabase;
  let roomId: string;
  let sender: string;

  before(async () => {
    tdb = await openPgliteMemory();
    const coach = await createUser(tdb.db, "coach");
    sender = coach.id;
    roomId = await createRoom(tdb.db, [coach]);
    await tdb.db.transaction((tx) =>
      appendEvents(tx, [1, 2, 3].map((n) => ({ roomId, clientId: `c${n}`, kind: "chat" as const, senderId: sender, body: { text: `bench ${n}` } }))),
    );
  });
  after(() => tdb.drop());

  const user = (over: Partial<UserAudit> = {}): UserAudit => ({ userId: "u", roomId, joinedAt: 0, first: 1, last: 3, count: 3, gaps: 0, duplicates: 0, ...over });
  const result = (acked: ClientResult["acked"], audits: UserAudit[]): ClientResult => ({
    connected: audits.length, failed: 0, sends: acked.length, sendErrors: 0, deliveries: 0, delivery: "", ack: "", acked, audit: audits, resumeMs: [],
  });

  test("a clean run passes", async () => {
    const verdict = await audit(tdb.db, [result([[roomId, "c1", 1], [roomId, "c2", 2]], [user()])], { [roomId]: 3 });
    assert.equal(verdict.ok, true, verdict.problems.join("\n"));
    assert.equal(verdict.storedRows, 3);
  });

  test("an acked send that is not stored, or stored under another seq, is lost", async () => {
    const verdict = await audit(tdb.db, [result([[roomId, "never-stored", 4], [roomId, "c3", 2]], [user()])], { [roomId]: 3 });
    assert.equal(verdict.ok, false);
    assert.equal(verdict.lost, 2);
  });

  test("a gap, a repeat, or a user behind the room's last seq fails the run", async () => {
    const verdict = await audit(
      tdb.db,
      [result([], [user({ userId: "gappy", gaps: 1 }), user({ userId: "twice", duplicates: 2 }), user({ userId: "late", last: 2 })])],
      { [roomId]: 3 },
    );
    assert.equal(verdict.ok, false);
    assert.deepEqual([verdict.usersWithGaps, verdict.duplicated, verdict.usersBehind], [1, 2, 1]);
  });

  test("the same message text stored twice counts as duplicated", async () => {
    await tdb.db.transaction((tx) => appendEvents(tx, [{ roomId, clientId: "c9", kind: "chat", senderId: sender, body: { text: "bench 1" } }]));
    const verdict = await audit(tdb.db, [result([], [user({ last: 4, count: 4 })])], { [roomId]: 4 });
    assert.equal(verdict.duplicated, 1);
    assert.equal(verdict.ok, false);
  });
});
