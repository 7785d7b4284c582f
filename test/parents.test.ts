import { RoomLogWriter } from "../server/log/log-transaction.ts";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EmbeddedRunner } from "../worker/embedded-runner.ts";
import { sendNotice } from "../worker/notices.ts";
import { runParentDigest } from "../worker/parent-digest-job.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createUser, type TestUser } from "./support/fixtures.ts";
import { restClient, type Json } from "./support/rest.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

/**
 * Parents (issue 10 §6): guardian invites by a coach of the student's room or an admin, parent
 * sign-up and linking a further child, at most two parents per student, what a parent reads of
 * their own children (tasks, progress, summaries, notices — never chat, never classmates, a
 * stranger's child answering like an unknown id), and the weekly parent digest. PGlite and PostgreSQL.
 */

const LIMITS = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_SEND_RATE_PER_S: "10000", COACHWIRE_SEND_BURST: "10000", COACHWIRE_LOGIN_RATE_PER_MIN: "100000" };
const TERMS = "2026-12-01";
const PASSWORD = "a-long-parent-password";

for (const driver of await availableDrivers()) {
  describe(`parents (${driver})`, () => {
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

    /** A coach and students in one group room (made through REST). */
    async function classroom(n: number, institutionId = "demo"): Promise<{ coach: TestUser; students: TestUser[]; roomId: string }> {
      const coach = await createUser(tdb.db, "coach", institutionId);
      const students: TestUser[] = [];
      for (let i = 0; i < n; i++) students.push(await createUser(tdb.db, "student", institutionId));
      const { room } = await ok(coach, "POST", "/api/rooms", { name: "11-A" }, 201);
      for (const s of students) await ok(coach, "POST", `/api/rooms/${room.id}/members`, { userId: s.id });
      return { coach, students, roomId: room.id };
    }
    /** The token of the newest invite mail sent to `email` (as the outbox link carries it). */
    async function mailedToken(email: string): Promise<string> {
      const res = await tdb.db.query<{ link: string }>("SELECT link FROM outbox WHERE to_email = $1 AND natural_key LIKE 'invite:%' ORDER BY id DESC LIMIT 1", [email]);
      const link = res.rows[0]?.link;
      assert.ok(link, `an invite mail to ${email}`);
      return /token=([A-Za-z0-9_-]+)/.exec(link)![1]!;
    }
    const invite = (as: TestUser, studentId: string, email: string) => ok(as, "POST", `/api/students/${studentId}/guardian-invites`, { email }, 201);
    async function signUp(email: string, name = "Veli Yılmaz"): Promise<{ user: Json; parent: { token: string } }> {
      const body = await ok(null, "POST", "/api/parent/signup", { token: await mailedToken(email), displayName: name, password: PASSWORD, termsVersion: TERMS }, 201);
      return { user: body.user, parent: { token: body.accessToken } };
    }
    const counts = async () =>
      (
        await tdb.db.query<{ users: number; links: number; used: number; consents: number }>(
          `SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM guardianships) AS links,
                  (SELECT count(*)::int FROM invites WHERE used_at IS NOT NULL) AS used, (SELECT count(*)::int FROM consents) AS consents`,
        )
      ).rows[0]!;
    const email = () => `veli-${Math.random().toString(36).slice(2)}@example.com`;

    test("a coach invites a guardian; the parent signs up and reads only their child's tasks, progress, summary and notices", async () => {
      const { coach, students, roomId } = await classroom(2);
      const [child, classmate] = students as [TestUser, TestUser];
      const { task } = await ok(coach, "POST", `/api/rooms/${roomId}/tasks`, { clientId: "t1", title: "Türev 40 soru", target: 40 }, 201);
      await ok(child, "POST", `/api/tasks/${task.id}/progress`, { opId: "p1", solved: 12, correct: 10, wrong: 2 });
      await ok(classmate, "POST", `/api/tasks/${task.id}/progress`, { opId: "p2", solved: 30, correct: 30, wrong: 0 });
      await (await server.client(classmate)).send(roomId, { text: "a classmate's chat the parent must never see" });
      await sendNotice(new RoomLogWriter(tdb.db, () => {}), { kind: "reminder", scopeId: task.id, userId: child.id, windowKey: "w1", roomId, body: { taskId: task.id, title: task.title, dueAt: 0, text: "due soon" } });
      await sendNotice(new RoomLogWriter(tdb.db, () => {}), { kind: "reminder", scopeId: task.id, userId: classmate.id, windowKey: "w1", roomId, body: { taskId: task.id, title: task.title, dueAt: 0, text: "due soon" } });

      const address = email();
      const sent = await invite(coach, child.id, address);
      assert.deepEqual([sent.invite.email, sent.invite.studentId], [address, child.id]);
      assert.ok(sent.invite.expiresAt > Date.now());
      assert.equal(sent.invite.token, undefined, "the token travels only in the mail");
      const { user, parent } = await signUp(address);
      assert.deepEqual([user.role, user.email, user.institutionId], ["parent", address, "demo"]);
      const consent = await ok(parent, "GET", "/api/me/consent");
      assert.deepEqual([consent.consent.accepted, consent.consent.history.map((h: Json) => h.version)], [true, [TERMS]], "the sign-up recorded the terms accepted");

      const kids = await ok(parent, "GET", "/api/parent/children");
      assert.deepEqual(kids.items, [{ studentId: child.id, displayName: `User ${child.id}`, rooms: [{ roomId, name: "11-A" }] }]);
      const tasks = await ok(parent, "GET", `/api/parent/children/${child.id}/tasks`);
      assert.equal(tasks.items.length, 1);
      assert.deepEqual(tasks.items[0].task.assignees, [child.id], "no classmate is named");
      assert.deepEqual([tasks.items[0].progress.userId, tasks.items[0].progress.solved, tasks.items[0].progress.state], [child.id, 12, "started"]);
      const { summary } = await ok(parent, "GET", `/api/parent/children/${child.id}/summary`);
      assert.deepEqual(summary.rooms.map((r: Json) => [r.roomId, r.userId, r.assigned, r.open, r.averageCompletion]), [[roomId, child.id, 1, 1, 0.3]]);
      const notices = await ok(parent, "GET", `/api/parent/children/${child.id}/notices`);
      assert.deepEqual(notices.items.map((n: Json) => n.body.userId), [child.id], "only notices addressed to the child");

      // A classmate, an unknown id, a coach's id: one and the same answer.
      const strangers = await Promise.all(
        [classmate.id, "no-such-student", coach.id].flatMap((id) => ["tasks", "summary", "notices"].map((part) => refused(parent, "GET", `/api/parent/children/${id}/${part}`, undefined, "NOT_FOUND"))),
      );
      assert.equal(new Set(strangers.map((b) => JSON.stringify(b))).size, 1, "a child that is not theirs answers exactly like one that does not exist");
      // Never chat, never the room.
      await refused(parent, "GET", `/api/rooms/${roomId}/events`, undefined, "NOT_A_MEMBER");
      await refused(parent, "GET", `/api/rooms/${roomId}`, undefined, "NOT_A_MEMBER");
      await refused(parent, "GET", `/api/rooms/${roomId}/students/${child.id}/summary`, undefined, "NOT_A_MEMBER");
      await refused(parent, "POST", "/api/rooms", { name: "x", kind: "direct", studentId: child.id }, "FORBIDDEN");
      const socket = await server.client({ id: user.id, email: address, password: PASSWORD, role: "parent", institutionId: "demo" });
      await assert.rejects(socket.join(roomId), (err: Json) => err.error?.code === "NOT_A_MEMBER");
    });

    test("an existing parent links a further child; a student has at most two parents (GUARDIAN_LIMIT, nothing written)", async () => {
      const { coach, students } = await classroom(2);
      const [first, second] = students as [TestUser, TestUser];
      const admin = await createUser(tdb.db, "admin");
      const mum = email();
      await invite(coach, first.id, mum);
      const { parent } = await signUp(mum, "Anne");
      await invite(admin, second.id, mum);
      const linked = await ok(parent, "POST", "/api/parent/children", { token: await mailedToken(mum) });
      assert.equal(linked.studentId, second.id);
      assert.deepEqual((await ok(parent, "GET", "/api/parent/children")).items.map((c: Json) => c.studentId).sort(), [first.id, second.id].sort());

      const dad = email();
      await invite(coach, first.id, dad);
      const early = email();
      await invite(coach, first.id, early); // issued while the child still had room for it
      await signUp(dad, "Baba");
      const before = await counts();
      await refused(coach, "POST", `/api/students/${first.id}/guardian-invites`, { email: email() }, "GUARDIAN_LIMIT");
      await refused(null, "POST", "/api/parent/signup", { token: await mailedToken(early), displayName: "Üçüncü", password: PASSWORD, termsVersion: TERMS }, "GUARDIAN_LIMIT");
      // The generic invite acceptance goes through the same limit.
      await refused(null, "POST", "/api/invites/accept", { token: await mailedToken(early), displayName: "Üçüncü", password: PASSWORD }, "GUARDIAN_LIMIT");
      assert.deepEqual(await counts(), before, "a third parent writes nothing");
      const links = await tdb.db.query("SELECT parent_id FROM guardianships WHERE student_id = $1", [first.id]);
      assert.equal(links.rows.length, 2);
    });

    test("three parents signing up for one child at once: exactly two are linked, the third is GUARDIAN_LIMIT with no account made", async () => {
      const { coach, students } = await classroom(1);
      const child = students[0]!;
      const addresses = [email(), email(), email()];
      for (const a of addresses) await invite(coach, child.id, a);
      const tokens = await Promise.all(addresses.map(mailedToken));
      const results = await Promise.all(
        tokens.map((token, i) => call(null, "POST", "/api/parent/signup", { token, displayName: `Veli ${i}`, password: PASSWORD, termsVersion: TERMS })),
      );
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 201, 409]);
      assert.equal(results.find((r) => r.status === 409)!.body.error.code, "GUARDIAN_LIMIT");
      const links = await tdb.db.query("SELECT parent_id FROM guardianships WHERE student_id = $1", [child.id]);
      assert.equal(links.rows.length, 2);
      const accounts = await tdb.db.query("SELECT 1 FROM users WHERE email = ANY($1::text[])", [addresses]);
      assert.equal(accounts.rows.length, 2, "the refused parent has no account");
    });

    test("guardian invite tokens: forged, reused, expired, another parent's, a taken email, a weak password, old terms — each coded, nothing written", async () => {
      const { coach, students } = await classroom(1);
      const child = students[0]!;
      const address = email();
      await invite(coach, child.id, address);
      const token = await mailedToken(address);
      const signup = (t: string, extra: Record<string, unknown> = {}) => ({ token: t, displayName: "X", password: PASSWORD, termsVersion: TERMS, ...extra });

      let before = await counts();
      await refused(null, "POST", "/api/parent/signup", signup("forged-token-forged-token-forged"), "LINK_INVALID");
      await refused(null, "POST", "/api/parent/signup", signup(token, { password: "short" }), "WEAK_PASSWORD");
      await refused(null, "POST", "/api/parent/signup", signup(token, { termsVersion: "2020-01-01" }), "TERMS_VERSION_MISMATCH");
      await refused(null, "POST", "/api/parent/signup", { token }, "VALIDATION_FAILED");
      assert.deepEqual(await counts(), before);

      await ok(null, "POST", "/api/parent/signup", signup(token), 201);
      before = await counts();
      await refused(null, "POST", "/api/parent/signup", signup(token), "LINK_INVALID");
      const stranger = await createUser(tdb.db, "parent");
      await refused(stranger, "POST", "/api/parent/children", { token }, "LINK_INVALID");

      // Expired.
      const late = email();
      await invite(coach, child.id, late);
      const lateToken = await mailedToken(late);
      await tdb.db.query("UPDATE invites SET expires_at = now() - interval '1 minute' WHERE email = $1", [late]);
      before = await counts();
      await refused(null, "POST", "/api/parent/signup", signup(lateToken), "LINK_INVALID");
      // Addressed to someone else: another parent cannot use it to link the child.
      const other = email();
      await invite(coach, child.id, other);
      await refused(stranger, "POST", "/api/parent/children", { token: await mailedToken(other) }, "LINK_INVALID");
      // A non-parent cannot link children at all.
      await refused(coach, "POST", "/api/parent/children", { token: await mailedToken(other) }, "FORBIDDEN");
      assert.deepEqual(await counts(), before, "nothing was written");
      // An email that already has an account: sign-up refuses, linking is the way.
      const taken = await createUser(tdb.db, "parent");
      const clash = await classroom(1);
      await invite(clash.coach, clash.students[0]!.id, taken.email);
      await refused(null, "POST", "/api/parent/signup", signup(await mailedToken(taken.email)), "EMAIL_TAKEN");
      assert.deepEqual((await ok(taken, "POST", "/api/parent/children", { token: await mailedToken(taken.email) })).studentId, clash.students[0]!.id);
    });

    test("who may invite a guardian: a coach of the student's room or an admin of their institution — never a student, a parent, another coach or another institution", async () => {
      const { coach, students } = await classroom(1);
      const child = students[0]!;
      const otherCoach = await createUser(tdb.db, "coach");
      const foreign = await classroom(1, "inst-b");
      const foreignAdmin = await createUser(tdb.db, "admin", "inst-b");
      const before = await counts();
      const invites = await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM invites");
      const path = `/api/students/${child.id}/guardian-invites`;
      await refused(child, "POST", path, { email: email() }, "FORBIDDEN");
      await refused(await createUser(tdb.db, "parent"), "POST", path, { email: email() }, "FORBIDDEN");
      await refused(otherCoach, "POST", path, { email: email() }, "FORBIDDEN");
      const crossCoach = await refused(foreign.coach, "POST", path, { email: email() }, "NOT_FOUND");
      const crossAdmin = await refused(foreignAdmin, "POST", path, { email: email() }, "NOT_FOUND");
      const unknown = await refused(foreign.coach, "POST", "/api/students/no-such-student/guardian-invites", { email: email() }, "NOT_FOUND");
      assert.deepEqual([crossCoach, crossAdmin], [unknown, unknown], "another institution's student answers like an unknown id");
      await refused(coach, "POST", `/api/students/${coach.id}/guardian-invites`, { email: email() }, "NOT_FOUND");
      await refused(coach, "POST", path, { email: "not-an-email" }, "VALIDATION_FAILED");
      assert.deepEqual(await counts(), { ...before, users: before.users + 1 }, "only the test's own parent row was added");
      assert.equal((await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM invites")).rows[0]!.n, invites.rows[0]!.n, "no invite was written");
      await invite(await createUser(tdb.db, "admin"), child.id, email());
      const audit = await tdb.db.query<{ action: string; target_id: string }>("SELECT action, target_id FROM audit_log WHERE action = 'guardian.invite' AND target_id = $1", [child.id]);
      assert.equal(audit.rows.length, 1, "the admin's invite is audited");
    });

    test("the weekly parent digest: one notice per parent and week (stored once, mailed once), a re-run writes nothing, the next week is planned", async () => {
      const { coach, students, roomId } = await classroom(2);
      const [child, classmate] = students as [TestUser, TestUser];
      const { task } = await ok(coach, "POST", `/api/rooms/${roomId}/tasks`, { clientId: "dg", title: "Paragraf 20 soru", target: 20 }, 201);
      await ok(child, "POST", `/api/tasks/${task.id}/progress`, { opId: "d1", solved: 20, correct: 18, wrong: 2 });
      const address = email();
      await invite(coach, child.id, address);
      const { user, parent } = await signUp(address);
      const queue = new EmbeddedRunner(tdb.db, { pollMs: 60_000, attempts: 1, leaseMs: 60_000 });
      const planned = (await queue.waiting()).filter((j) => j.id.startsWith(`parent-digest:${user.id}:`));
      assert.equal(planned.length, 1, "linking a child planned the parent's digest");
      // The job runs when it was planned for.
      const ctx = { db: tdb.db, log: new RoomLogWriter(tdb.db, () => {}), queue, now: () => planned[0]!.runAt, digestHour: 18, parentDigestWeekday: 0 };
      const week = planned[0]!.id.split(":").pop()!;
      await runParentDigest(ctx, { parentId: user.id, week });
      await runParentDigest(ctx, { parentId: user.id, week });
      const { items } = await ok(parent, "GET", "/api/parent/digests");
      assert.equal(items.length, 1, "one digest for the week, however often the job runs");
      assert.equal(items[0].week, week);
      assert.deepEqual(items[0].body.children.map((c: Json) => [c.studentId, c.doneThisWeek, c.open]), [[child.id, 1, 0]]);
      assert.ok(!JSON.stringify(items[0].body).includes(classmate.id), "no classmate in the digest");
      const mails = await tdb.db.query("SELECT 1 FROM outbox WHERE natural_key = $1 AND to_email = $2", [`parent-digest:${user.id}:${week}`, address]);
      assert.equal(mails.rows.length, 1, "mailed once");
      const mailJobs = await tdb.db.query("SELECT 1 FROM scheduled_jobs WHERE id = $1 UNION ALL SELECT 1 FROM outbox WHERE natural_key = $2 AND status = 'sent'", [
        `mail:parent-digest:${user.id}:${week}`,
        `parent-digest:${user.id}:${week}`,
      ]);
      assert.ok(mailJobs.rows.length >= 1, "the mail job was handed the digest (queued, or already sent)");
      const next = (await queue.waiting()).filter((j) => j.id.startsWith(`parent-digest:${user.id}:`) && !j.id.endsWith(week));
      assert.equal(next.length, 1, "next week's digest is planned");
      assert.equal(new Date(next[0]!.runAt).getUTCDay(), 0, "on the configured weekday (Sunday, UTC parent)");
      await refused(coach, "GET", "/api/parent/digests", undefined, "FORBIDDEN");
      await queue.close();
    });
  });
}
