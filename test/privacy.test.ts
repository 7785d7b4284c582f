import { RoomLogWriter } from "../server/log/log-transaction.ts";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sendNotice } from "../worker/notices.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createUser, type TestUser } from "./support/fixtures.ts";
import { restClient, type Json } from "./support/rest.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

/**
 * Privacy (issue 10 §8): the streamed export of everything held about the caller (and an admin's
 * export of a user of their institution), an admin's anonymising deletion (sessions revoked and
 * sockets closed, chat tombstoned with chat.deleted, no seq gaps, audited), and consent records.
 * Every refusal is coded and writes nothing. PGlite and PostgreSQL.
 */

const LIMITS = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_SEND_RATE_PER_S: "10000", COACHWIRE_SEND_BURST: "10000", COACHWIRE_LOGIN_RATE_PER_MIN: "100000" };

for (const driver of await availableDrivers()) {
  describe(`privacy (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    const { call, ok, refused } = restClient(() => server);

    before(async () => {
      tdb = await openTestDatabase(driver);
      await tdb.db.query("INSERT INTO institutions (id, name) VALUES ('inst-b', 'Other centre') ON CONFLICT DO NOTHING");
      server = await startTestServer(tdb.db, LIMITS);
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    async function classroom(): Promise<{ coach: TestUser; student: TestUser; classmate: TestUser; roomId: string }> {
      const coach = await createUser(tdb.db, "coach");
      const student = await createUser(tdb.db, "student");
      const classmate = await createUser(tdb.db, "student");
      const { room } = await ok(coach, "POST", "/api/rooms", { name: "12-A" }, 201);
      for (const s of [student, classmate]) await ok(coach, "POST", `/api/rooms/${room.id}/members`, { userId: s.id });
      return { coach, student, classmate, roomId: room.id };
    }
    const login = (u: TestUser, agent = "test-agent/1") => ok(null, "POST", "/api/auth/login", { email: u.email, password: u.password }, 200, { "user-agent": agent });
    const auditCount = async (action: string) => (await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = $1", [action])).rows[0]!.n;

    test("GET /api/me/export streams everything held about the caller, and nothing of anyone else", async () => {
      const { coach, student, classmate, roomId } = await classroom();
      const pair = await login(student, "Firefox/140");
      const chat = await server.client(student);
      for (let i = 0; i < 3; i++) await chat.send(roomId, { text: `benim mesajım ${i}` });
      await (await server.client(classmate)).send(roomId, { text: "someone else's message" });
      const { task } = await ok(coach, "POST", `/api/rooms/${roomId}/tasks`, { clientId: "ex", title: "Limit 10 soru", target: 10 }, 201);
      await ok(student, "POST", `/api/tasks/${task.id}/progress`, { opId: "e1", solved: 4, correct: 3, wrong: 1 });
      await sendNotice(new RoomLogWriter(tdb.db, () => {}), { kind: "reminder", scopeId: task.id, userId: student.id, windowKey: "x", roomId, body: { taskId: task.id, title: task.title, dueAt: 0, text: "soon" } });
      await ok(student, "POST", "/api/me/consent", { version: "2026-12-01" });

      const res = await fetch(`${server.url}/api/me/export`, { headers: { authorization: `Bearer ${pair.accessToken}` } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      const text = await res.text();
      const data = JSON.parse(text);
      assert.deepEqual(Object.keys(data), ["exportedAt", "profile", "settings", "consents", "sessions", "memberships", "messages", "progress", "notices", "guardianships", "parentDigests"]);
      assert.deepEqual([data.profile.id, data.profile.email, data.profile.role], [student.id, student.email, "student"]);
      assert.deepEqual(data.memberships.map((m: Json) => [m.roomId, m.role]), [[roomId, "student"]]);
      assert.deepEqual(data.messages.map((m: Json) => m.body.text), ["benim mesajım 0", "benim mesajım 1", "benim mesajım 2"]);
      assert.deepEqual(data.progress.map((p: Json) => [p.taskId, p.solved]), [[task.id, 4]]);
      assert.deepEqual(data.notices.map((n: Json) => n.body.userId), [student.id]);
      assert.deepEqual(data.consents.map((c: Json) => c.version), ["2026-12-01"]);
      assert.deepEqual(data.sessions.map((s: Json) => s.userAgent), ["Firefox/140"]);
      assert.equal(data.settings.timeZone, "UTC");
      assert.ok(!text.includes("someone else's message") && !text.includes(classmate.email), "nothing of another user");
      assert.equal(await auditCount("user.export"), 1, "the export is audited");
    });

    test("a long export is streamed page by page, in order, over both HTTP transports (uWS and node:http)", async () => {
      const { student, roomId } = await classroom();
      // 1,234 messages of about 1 KB (more than two of the export's 500-row pages, and more than a
      // socket buffers, so a slow reader makes the server wait for it), stored directly.
      await tdb.db.query(
        `INSERT INTO room_events (room_id, seq, client_id, kind, sender_id, body)
         SELECT $1, r.last_seq + g, 'bulk-' || g, 'chat', $2, jsonb_build_object('text', 'm' || g, 'pad', repeat('x', 800)) FROM rooms r, generate_series(1, 1234) g WHERE r.id = $1`,
        [roomId, student.id],
      );
      await tdb.db.query("UPDATE rooms SET last_seq = last_seq + 1234 WHERE id = $1", [roomId]);
      const nodeServer = await startTestServer(tdb.db, { ...LIMITS, COACHWIRE_TRANSPORT: "node" });
      try {
        for (const url of [server.url, nodeServer.url]) {
          const res = await fetch(`${url}/api/me/export`, { headers: { authorization: `Bearer ${await server.tokenFor(student)}` } });
          assert.equal(res.status, 200);
          const chunks: Uint8Array[] = [];
          const reader = res.body!.getReader();
          for (let read = await reader.read(); !read.done; read = await reader.read()) {
            chunks.push(read.value);
            if (chunks.length % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5)); // a slow reader
          }
          const data = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          assert.deepEqual(data.messages.map((m: Json) => m.body.text), Array.from({ length: 1234 }, (_, i) => `m${i + 1}`), `${url}: every message once, in order`);
        }
      } finally {
        await nodeServer.close();
      }
    });

    test("an admin exports a user of their institution; another institution's user, a coach or an unknown id is refused and nothing is audited", async () => {
      const { student } = await classroom();
      const admin = await createUser(tdb.db, "admin");
      const foreignAdmin = await createUser(tdb.db, "admin", "inst-b");
      const before = await auditCount("user.export");
      const cross = await refused(foreignAdmin, "GET", `/api/admin/users/${student.id}/export`, undefined, "NOT_FOUND");
      const unknown = await refused(foreignAdmin, "GET", "/api/admin/users/no-such-user/export", undefined, "NOT_FOUND");
      assert.deepEqual(cross, unknown, "another institution's user answers like an unknown id");
      await refused(await createUser(tdb.db, "coach"), "GET", `/api/admin/users/${student.id}/export`, undefined, "FORBIDDEN");
      await refused(student, "GET", `/api/admin/users/${student.id}/export`, undefined, "FORBIDDEN");
      assert.equal(await auditCount("user.export"), before, "refusals write nothing");
      const res = await call(admin, "GET", `/api/admin/users/${student.id}/export`);
      assert.equal(res.status, 200);
      assert.equal(res.body.profile.id, student.id);
      const row = await tdb.db.query<{ actor_id: string; target_id: string }>("SELECT actor_id, target_id FROM audit_log WHERE action = 'user.export' ORDER BY id DESC LIMIT 1");
      assert.deepEqual(row.rows[0], { actor_id: admin.id, target_id: student.id });
    });

    test("an admin deletes a user: anonymised, sessions and socket ended, chat tombstoned with chat.deleted and no seq gap, audited once", async () => {
      const { coach, student, classmate, roomId } = await classroom();
      const admin = await createUser(tdb.db, "admin");
      const pair = await login(student);
      await ok(null, "POST", "/api/auth/password-reset", { email: student.email }, 202);
      await eventually(async () => (await tdb.db.query("SELECT 1 FROM outbox WHERE to_email = $1", [student.email])).rows.length > 0, "a reset mail to the student");
      const socket = await server.client(student);
      let closedFor: string | undefined;
      socket.on("closed", (reason) => (closedFor = reason));
      const sent: number[] = [];
      for (let i = 0; i < 3; i++) sent.push((await socket.send(roomId, { text: `silinecek ${i}` })).seq);
      const kept = (await (await server.client(classmate)).send(roomId, { text: "stays" })).seq;
      const foreignAdmin = await createUser(tdb.db, "admin", "inst-b");

      const snapshot = async () => (await tdb.db.query("SELECT display_name, email, status FROM users WHERE id = $1", [student.id])).rows[0];
      const untouched = await snapshot();
      const cross = await refused(foreignAdmin, "DELETE", `/api/admin/users/${student.id}`, undefined, "NOT_FOUND");
      assert.deepEqual(cross, await refused(foreignAdmin, "DELETE", "/api/admin/users/no-such-user", undefined, "NOT_FOUND"));
      await refused(coach, "DELETE", `/api/admin/users/${student.id}`, undefined, "FORBIDDEN");
      await refused(admin, "DELETE", `/api/admin/users/${admin.id}`, undefined, "FORBIDDEN");
      assert.deepEqual(await snapshot(), untouched, "refusals change nothing");
      assert.equal(await auditCount("user.delete"), 0);

      const { deletion } = await ok(admin, "DELETE", `/api/admin/users/${student.id}`);
      assert.deepEqual(deletion, { userId: student.id, messagesDeleted: 3, roomsLeft: 1, alreadyDeleted: false });
      assert.deepEqual(await snapshot(), { display_name: "Deleted user", email: null, status: "deleted" });
      const mails = await tdb.db.query("SELECT 1 FROM outbox WHERE to_email = $1 OR body_text LIKE $2", [student.email, `%${student.email}%`]);
      assert.equal(mails.rows.length, 0, "the address is gone from the outbox");
      const where = await tdb.db.query<{ user_agent: string; ip: string }>("SELECT user_agent, ip FROM session_families WHERE user_id = $1", [student.id]);
      assert.ok(where.rows.length > 0 && where.rows.every((r) => r.user_agent === "" && r.ip === ""), "no device or IP kept");
      await refused({ token: pair.accessToken }, "GET", "/api/rooms", undefined, "TOKEN_REVOKED");
      await refused(null, "POST", "/api/auth/refresh", { refreshToken: pair.refreshToken }, "TOKEN_REVOKED");
      await eventually(() => closedFor !== undefined, "the deleted user's socket closes");
      assert.equal(closedFor, "token revoked", "told not to come back");

      const { events } = await ok(coach, "GET", `/api/rooms/${roomId}/events?after=0&limit=200`);
      assert.deepEqual(events.map((e: Json) => e.seq), events.map((_: Json, i: number) => i + 1), "seqs stay 1..n, no gap");
      for (const seq of sent) assert.deepEqual(events.find((e: Json) => e.seq === seq).body, { deleted: true });
      assert.equal(events.find((e: Json) => e.seq === kept).body.text, "stays");
      const tombstones = events.filter((e: Json) => e.kind === "chat.deleted").map((e: Json) => e.body.seq);
      assert.deepEqual(tombstones, sent, "one chat.deleted per message");
      assert.ok(events.some((e: Json) => e.kind === "member.removed" && e.body.userId === student.id));
      const added = events.find((e: Json) => e.kind === "member.added" && e.body.userId === student.id);
      assert.equal(added.body.displayName, "Deleted user", "the name is gone from the log too");
      assert.ok(!JSON.stringify(events).includes(student.email));
      assert.equal(await auditCount("user.delete"), 1);

      const again = await ok(admin, "DELETE", `/api/admin/users/${student.id}`);
      assert.deepEqual(again.deletion, { userId: student.id, messagesDeleted: 0, roomsLeft: 0, alreadyDeleted: true });
      assert.equal(await auditCount("user.delete"), 1, "audited once");
      const after = await ok(coach, "GET", `/api/rooms/${roomId}/events?after=0&limit=200`);
      assert.equal(after.events.length, events.length, "a second deletion logs nothing");
      await refused(null, "POST", "/api/auth/login", { email: student.email, password: student.password }, "INVALID_CREDENTIALS");
    });

    test("consent: the terms version in force, accepting it (again: no change), an outdated version refused", async () => {
      const user = await createUser(tdb.db, "student");
      const start = await ok(user, "GET", "/api/me/consent");
      assert.deepEqual(start.consent, { currentVersion: "2026-12-01", accepted: false, history: [] });
      await refused(user, "POST", "/api/me/consent", { version: "2025-01-01" }, "TERMS_VERSION_MISMATCH");
      await refused(user, "POST", "/api/me/consent", { version: "" }, "VALIDATION_FAILED");
      assert.equal((await ok(user, "GET", "/api/me/consent")).consent.history.length, 0, "nothing recorded");
      const accepted = await ok(user, "POST", "/api/me/consent", { version: "2026-12-01" });
      assert.equal(accepted.consent.accepted, true);
      assert.deepEqual(accepted.consent.history.map((h: Json) => h.version), ["2026-12-01"]);
      const again = await ok(user, "POST", "/api/me/consent", { version: "2026-12-01" });
      assert.deepEqual(again.consent.history, accepted.consent.history, "accepting twice keeps the first time");
      assert.deepEqual((await ok(null, "GET", "/api/terms")).terms, { version: "2026-12-01" });
    });

    test("consent at acceptance: POST /api/invites/accept with termsVersion records it; an outdated one is refused before any account is made", async () => {
      const admin = await createUser(tdb.db, "admin");
      const email = `invitee-${Math.random().toString(36).slice(2)}@school.test`;
      await ok(admin, "POST", "/api/admin/invites", { email, role: "coach" }, 201);
      const link = (await tdb.db.query<{ link: string }>("SELECT link FROM outbox WHERE to_email = $1", [email])).rows[0]!.link;
      const token = /token=([A-Za-z0-9_-]+)/.exec(link)![1]!;
      await refused(null, "POST", "/api/invites/accept", { token, password: "mavi-kalem-42", displayName: "Koç", termsVersion: "2019-01-01" }, "TERMS_VERSION_MISMATCH");
      assert.equal((await tdb.db.query("SELECT 1 FROM users WHERE email = $1", [email])).rows.length, 0, "no account, the token still unused");
      const made = await ok(null, "POST", "/api/invites/accept", { token, password: "mavi-kalem-42", displayName: "Koç", termsVersion: "2026-12-01" }, 201);
      const consent = await ok({ token: made.accessToken }, "GET", "/api/me/consent");
      assert.deepEqual([consent.consent.accepted, consent.consent.history.length], [true, 1]);
    });
  });
}
