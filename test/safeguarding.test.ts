import { RoomLogWriter } from "../server/log/log-transaction.ts";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createUser } from "./support/fixtures.ts";
import { restClient, type Json } from "./support/rest.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { sendNotice } from "../worker/notices.ts";

/**
 * Safeguarding (issue 10 §7): students cannot open direct rooms (with each other or anyone);
 * only a coach or admin starts a direct room with a student of their own institution; an admin
 * reads any room of the institution — members and history, notices in full — and every such read
 * is one audit row. Each refusal is coded and writes nothing. PGlite and PostgreSQL.
 */

const LIMITS = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_SEND_RATE_PER_S: "10000", COACHWIRE_SEND_BURST: "10000" };

for (const driver of await availableDrivers()) {
  describe(`safeguarding (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    const { ok, refused } = restClient(() => server);

    before(async () => {
      tdb = await openTestDatabase(driver);
      await tdb.db.query("INSERT INTO institutions (id, name) VALUES ('inst-b', 'Other centre') ON CONFLICT DO NOTHING");
      server = await startTestServer(tdb.db, LIMITS);
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    const roomCount = async () => (await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM rooms")).rows[0]!.n;
    const readAudits = async (roomId: string) =>
      (await tdb.db.query<{ actor_id: string; details: Json }>("SELECT actor_id, details FROM audit_log WHERE action = 'room.read' AND target_id = $1 ORDER BY id", [roomId])).rows;

    test("direct rooms: never opened by a student or a parent; a coach or admin opens one with a student of their own institution only", async () => {
      const student = await createUser(tdb.db, "student");
      const classmate = await createUser(tdb.db, "student");
      const coach = await createUser(tdb.db, "coach");
      const admin = await createUser(tdb.db, "admin");
      const foreignCoach = await createUser(tdb.db, "coach", "inst-b");
      const before = await roomCount();
      const direct = (studentId: string) => ({ name: "1:1", kind: "direct", studentId });
      const refusedStudent = await refused(student, "POST", "/api/rooms", direct(classmate.id), "FORBIDDEN");
      assert.match(refusedStudent.error.message, /Students cannot open direct rooms/);
      await refused(student, "POST", "/api/rooms", { name: "our group" }, "FORBIDDEN");
      await refused(await createUser(tdb.db, "parent"), "POST", "/api/rooms", direct(student.id), "FORBIDDEN");
      // A coach naming another coach, or a student of another institution: like an unknown id.
      await refused(coach, "POST", "/api/rooms", direct(admin.id), "VALIDATION_FAILED");
      const cross = await refused(foreignCoach, "POST", "/api/rooms", direct(student.id), "VALIDATION_FAILED");
      const unknown = await refused(foreignCoach, "POST", "/api/rooms", direct("no-such-student"), "VALIDATION_FAILED");
      assert.equal(cross.error.message.replace(student.id, "X"), unknown.error.message.replace("no-such-student", "X"));
      assert.equal(await roomCount(), before, "no room was written");

      const byCoach = await ok(coach, "POST", "/api/rooms", direct(student.id), 201);
      const byAdmin = await ok(admin, "POST", "/api/rooms", direct(student.id), 201);
      assert.notEqual(byCoach.room.id, byAdmin.room.id);
      assert.equal(await roomCount(), before + 2);
    });

    test("an admin reads any room of their institution (members, history, notices in full); each read is audited; other institutions' rooms and non-admins are refused, unaudited", async () => {
      const coach = await createUser(tdb.db, "coach");
      const student = await createUser(tdb.db, "student");
      const admin = await createUser(tdb.db, "admin");
      const { room } = await ok(coach, "POST", "/api/rooms", { name: "1:1 Deniz", kind: "direct", studentId: student.id }, 201);
      await (await server.client(student)).send(room.id, { text: "hocam bir sorum var" });
      await sendNotice(new RoomLogWriter(tdb.db, () => {}), { kind: "reminder", scopeId: "t", userId: student.id, windowKey: "w", roomId: room.id, body: { taskId: "t", title: "x", dueAt: 0, text: "private reminder" } });

      const foreignAdmin = await createUser(tdb.db, "admin", "inst-b");
      const cross = await refused(foreignAdmin, "GET", `/api/admin/rooms/${room.id}`, undefined, "ROOM_NOT_FOUND");
      assert.deepEqual(cross, await refused(foreignAdmin, "GET", "/api/admin/rooms/no-such-room", undefined, "ROOM_NOT_FOUND"));
      await refused(foreignAdmin, "GET", `/api/admin/rooms/${room.id}/events`, undefined, "ROOM_NOT_FOUND");
      await refused(coach, "GET", `/api/admin/rooms/${room.id}/events`, undefined, "FORBIDDEN");
      await refused(student, "GET", `/api/admin/rooms/${room.id}`, undefined, "FORBIDDEN");
      await refused(admin, "GET", `/api/admin/rooms/${room.id}/events?before=1&after=1`, undefined, "VALIDATION_FAILED");
      assert.deepEqual(await readAudits(room.id), [], "refused reads leave no trace and read nothing");

      const listed = await ok(admin, "GET", "/api/admin/rooms?limit=200");
      assert.ok(listed.items.some((r: Json) => r.id === room.id && r.memberCount === 2 && r.kind === "direct"));
      assert.ok(!(await ok(foreignAdmin, "GET", "/api/admin/rooms?limit=200")).items.some((r: Json) => r.id === room.id), "never another institution's rooms");
      await refused(coach, "GET", "/api/admin/rooms", undefined, "FORBIDDEN");
      assert.deepEqual(await readAudits(room.id), [], "listing names reads nothing and is not audited");
      const members = await ok(admin, "GET", `/api/admin/rooms/${room.id}`);
      assert.deepEqual([members.room.id, members.room.kind], [room.id, "direct"]);
      assert.deepEqual(members.members.map((m: Json) => m.userId).sort(), [coach.id, student.id].sort());
      const history = await ok(admin, "GET", `/api/admin/rooms/${room.id}/events?after=0`);
      assert.deepEqual(history.events.map((e: Json) => e.kind), ["member.added", "member.added", "chat", "notice"]);
      assert.equal(history.events[2].body.text, "hocam bir sorum var");
      assert.equal(history.events[3].body.text, "private reminder", "notices in full");
      const audits = await readAudits(room.id);
      assert.deepEqual(audits.map((a) => [a.actor_id, a.details.part]), [[admin.id, "members"], [admin.id, "events"]], "each read is one audit row");
      assert.deepEqual(audits[1]!.details.seqs, [1, 4]);
      // The admin did not become a member.
      await refused(admin, "GET", `/api/rooms/${room.id}/events`, undefined, "NOT_A_MEMBER");
    });
  });
}
