import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CoachClient } from "../protocol/client.ts";
import { DEMO_ADMIN, DEMO_PASSWORD, seedDemo } from "../server/demo-seed.ts";
import { restClient, tokenOf, type Json } from "./support/accounts-api.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

/**
 * The accounts walk-through of the README, all through REST on a fresh server with the demo
 * seed (the embedded default's): the demo admin imports a 30-row CSV, invites a coach by email,
 * the coach sets a password from the outbox link, creates a room and a join code, a student
 * signs up with the code, confirms from the outbox link, lands in the room and chats over the
 * socket. Runs on PGlite and PostgreSQL.
 */

const ENV = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_LOGIN_RATE_PER_MIN: "100000", COACHWIRE_JOB_POLL_MS: "50", COACHWIRE_PUBLIC_URL: "http://coachwire.test" };

/** A 30-row roster: 27 students, 3 coaches; a formula-looking name stays text. */
function roster(runId: string): string {
  const lines = ["name,email,role"];
  for (let i = 1; i <= 27; i++) lines.push(`Öğrenci ${i},student${i}.${runId}@school.test,student`);
  for (let i = 1; i <= 2; i++) lines.push(`"Koç, ${i}",coach${i}.${runId}@school.test,coach`);
  lines.push(`=cmd|' /C calc'!A0,formula.${runId}@school.test,coach`);
  return lines.join("\r\n") + "\r\n";
}

for (const driver of await availableDrivers()) {
  describe(`accounts walk-through over REST (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    const api = restClient(() => server.url);
    const runId = `r${Date.now().toString(36)}`;

    before(async () => {
      tdb = await openTestDatabase(driver);
      await seedDemo(tdb.db);
      server = await startTestServer(tdb.db, ENV);
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    /** The newest outbox mail to `to`, as the admin reads it. */
    async function mailTo(adminToken: string, to: string): Promise<Json> {
      const { items } = await api.ok(adminToken, "GET", "/api/admin/outbox?limit=200");
      const mail = items.find((m: Json) => m.to === to);
      assert.ok(mail, `no mail to ${to}`);
      return mail;
    }

    test("admin imports, invites a coach; the coach makes a room and a code; a student signs up and chats", async () => {
      const admin = await api.login(DEMO_ADMIN.email, DEMO_PASSWORD);
      assert.equal(admin.user.role, "admin");
      assert.equal(admin.user.institutionId, "demo");
      const adminToken: string = admin.accessToken;

      // CSV: dry run first (writes nothing), then the import.
      const csv = roster(runId);
      const usersBefore = await tdb.db.query("SELECT count(*)::int AS n FROM users");
      const dry = await api.ok(adminToken, "POST", "/api/admin/users/import", { csv, dryRun: true });
      assert.deepEqual(dry.report, { dryRun: true, rows: 30, errors: [], created: 0 });
      assert.deepEqual((await tdb.db.query("SELECT count(*)::int AS n FROM users")).rows, usersBefore.rows, "a dry run writes nothing");
      const done = await api.ok(adminToken, "POST", "/api/admin/users/import", { csv });
      assert.deepEqual(done.report, { dryRun: false, rows: 30, errors: [], created: 30 });
      const imported = await api.ok(adminToken, "GET", `/api/admin/users?q=${runId}&limit=100`);
      assert.equal(imported.items.length, 30);
      assert.ok(imported.items.every((u: Json) => u.status === "active" && u.passwordSet === false));
      assert.ok(imported.items.some((u: Json) => u.displayName === "=cmd|' /C calc'!A0"), "the formula cell is stored as text");
      assert.ok(imported.items.some((u: Json) => u.displayName === "Koç, 1"));
      // Each imported account got a welcome mail with a set-password link.
      const welcome = await mailTo(adminToken, `student7.${runId}@school.test`);
      assert.match(welcome.link, /^http:\/\/coachwire\.test\/set-password#token=/);
      const exported = await api.call(adminToken, "GET", "/api/admin/users/export.csv");
      assert.match(exported.text, /^name,email,role,status\r\n/);
      assert.ok(exported.text.includes(`\r\n'=cmd|' /C calc'!A0,formula.${runId}@school.test,coach,active\r\n`), "exported with the formula defused");

      // Invite a coach; the coach sets a password from the outbox link.
      const coachEmail = `new.coach.${runId}@school.test`;
      const invited = await api.ok(adminToken, "POST", "/api/admin/invites", { email: coachEmail, role: "coach", displayName: "Coach Mert" }, 201);
      assert.equal(invited.invite.email, coachEmail);
      assert.equal(invited.invite.token, undefined, "the token goes by mail only");
      const inviteMail = await mailTo(adminToken, coachEmail);
      assert.match(inviteMail.subject, /invited/);
      await eventually(async () => (await mailTo(adminToken, coachEmail)).status === "sent", "the mail job kept the invite in the outbox");
      assert.equal((await mailTo(adminToken, coachEmail)).transport, "outbox");
      const preview = await api.ok(null, "POST", "/api/invites/preview", { token: tokenOf(inviteMail.link) });
      assert.deepEqual({ ...preview.invite, expiresAt: 0 }, {
        email: coachEmail,
        role: "coach",
        displayName: "Coach Mert",
        institution: { id: "demo", name: "Demo institution" },
        kind: "invite",
        guardianOf: null,
        guardianOfName: null,
        expiresAt: 0,
      });
      const coach = await api.ok(null, "POST", "/api/invites/accept", { token: tokenOf(inviteMail.link), password: "mavi-kalem-42" }, 201);
      assert.equal(coach.user.role, "coach");
      assert.equal(coach.user.displayName, "Coach Mert");
      assert.equal((await api.login(coachEmail, "mavi-kalem-42")).user.id, coach.user.id);

      // The coach creates a room and a join code.
      const { room } = await api.ok(coach.accessToken, "POST", "/api/rooms", { name: "12-B Sayısal" }, 201);
      const { joinCode } = await api.ok(coach.accessToken, "POST", `/api/rooms/${room.id}/join-codes`, {}, 201);

      // A student signs up with the code: a confirmation mail, then the account lands in the room.
      const studentEmail = `self.${runId}@home.test`;
      const signup = await api.ok(null, "POST", "/api/auth/signup", { code: joinCode.code, displayName: "Defne", email: studentEmail, password: "yesil-defter-7" }, 202);
      assert.deepEqual(signup, { ok: true, pending: true, email: studentEmail });
      assert.equal((await tdb.db.query("SELECT 1 FROM users WHERE email = $1", [studentEmail])).rows.length, 0, "no account before the confirmation");
      const confirm = await mailTo(adminToken, studentEmail);
      const student = await api.ok(null, "POST", "/api/invites/accept", { token: tokenOf(confirm.link) }, 201);
      assert.equal(student.roomId, room.id);
      assert.equal(student.user.role, "student");
      const details = await api.ok(student.accessToken, "GET", `/api/rooms/${room.id}`);
      assert.deepEqual(details.members.map((m: Json) => m.role).sort(), ["coach", "student"]);

      // The student chats over the socket; the coach reads it in the room's log.
      const client = new CoachClient({ url: server.url, tokens: { accessToken: student.accessToken, refreshToken: student.refreshToken }, parser: "msgpack" });
      try {
        await client.connect();
        await client.join(room.id);
        const sent = await client.send(room.id, { text: "Merhaba hocam" });
        const history = await api.ok(coach.accessToken, "GET", `/api/rooms/${room.id}/events?after=0`);
        assert.deepEqual(history.events.filter((e: Json) => e.kind === "chat").map((e: Json) => [e.seq, e.senderId, e.body.text]), [[sent.seq, student.user.id, "Merhaba hocam"]]);
      } finally {
        client.close();
      }

      // What the admin did is in the audit log, newest first.
      const audit = await api.ok(adminToken, "GET", "/api/admin/audit?limit=10");
      assert.deepEqual(audit.items.slice(0, 2).map((a: Json) => a.action), ["invite.create", "user.import"]);
      assert.equal(audit.items[1].actorId, DEMO_ADMIN.id);
      assert.equal(audit.items[1].ip, "127.0.0.1");

      // A parent signs up from a guardian invite and sees the child's progress only.
      const classmate = imported.items.find((u: Json) => u.role === "student");
      await api.ok(coach.accessToken, "POST", `/api/rooms/${room.id}/members`, { userId: classmate.id });
      const { task } = await api.ok(coach.accessToken, "POST", `/api/rooms/${room.id}/tasks`, { clientId: "flow-1", title: "Türev 30 soru", target: 30 }, 201);
      await api.ok(student.accessToken, "POST", `/api/tasks/${task.id}/progress`, { opId: "flow-p1", solved: 12, correct: 11, wrong: 1 });
      const parentEmail = `veli.${runId}@home.test`;
      const guardian = await api.ok(coach.accessToken, "POST", `/api/students/${student.user.id}/guardian-invites`, { email: parentEmail }, 201);
      assert.deepEqual([guardian.invite.email, guardian.invite.studentId], [parentEmail, student.user.id]);
      const guardianMail = await mailTo(adminToken, parentEmail);
      const guardianPreview = await api.ok(null, "POST", "/api/invites/preview", { token: tokenOf(guardianMail.link) });
      assert.deepEqual([guardianPreview.invite.role, guardianPreview.invite.guardianOf, guardianPreview.invite.guardianOfName], ["parent", student.user.id, student.user.displayName]);
      const { terms } = await api.ok(null, "GET", "/api/terms");
      const parent = await api.ok(null, "POST", "/api/parent/signup", { token: tokenOf(guardianMail.link), displayName: "Veli Hanım", password: "turuncu-kalem-9", termsVersion: terms.version }, 201);
      assert.equal(parent.user.role, "parent");
      const children = await api.ok(parent.accessToken, "GET", "/api/parent/children");
      assert.deepEqual(children.items.map((c: Json) => [c.studentId, c.displayName, c.rooms.map((r: Json) => r.roomId)]), [[student.user.id, "Defne", [room.id]]]);
      const childTasks = await api.ok(parent.accessToken, "GET", `/api/parent/children/${student.user.id}/tasks`);
      assert.deepEqual(childTasks.items.map((t: Json) => [t.task.id, t.task.assignees, t.progress.solved, t.progress.state]), [[task.id, [student.user.id], 12, "started"]]);
      const { summary } = await api.ok(parent.accessToken, "GET", `/api/parent/children/${student.user.id}/summary`);
      assert.deepEqual(summary.rooms.map((r: Json) => [r.roomId, r.assigned, r.averageCompletion]), [[room.id, 1, 0.4]]);
      // Never the classmate, never the chat.
      const notTheirs = await api.call(parent.accessToken, "GET", `/api/parent/children/${classmate.id}/tasks`);
      const nobody = await api.call(parent.accessToken, "GET", "/api/parent/children/no-such-student/tasks");
      assert.deepEqual([notTheirs.status, notTheirs.body], [404, nobody.body], "a child that is not theirs answers like one that does not exist");
      assert.equal((await api.call(parent.accessToken, "GET", `/api/rooms/${room.id}/events?after=0`)).body.error.code, "NOT_A_MEMBER");
      assert.ok(!JSON.stringify(childTasks).includes(classmate.id), "no classmate in what the parent reads");
    });
  });
}
