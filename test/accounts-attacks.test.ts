import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { hashSecretToken } from "../server/accounts/secret-tokens.ts";
import { restClient, tokenOf, type Json } from "./support/accounts-api.ts";
import { within } from "./support/bad-input-table.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, storedEvents, type TestUser } from "./support/fixtures.ts";
import { connectRaw, eventually, startTestServer, type TestServer } from "./support/server.ts";

/**
 * The accounts attack list: reused, expired and forged invite and reset tokens; sign-up, reset
 * and invite answering the same whether or not the email has an account; a deactivated user's
 * access token, refresh token and open socket; a coach trying every admin route; passwords
 * (strength, change needs the old one and ends other sessions, re-hash of old parameters).
 * Each gets its coded error and writes nothing. Runs on PGlite and PostgreSQL.
 */

const ENV = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_LOGIN_RATE_PER_MIN: "100000", COACHWIRE_JOB_POLL_MS: "50" };

for (const driver of await availableDrivers()) {
  describe(`accounts attacks and bad input (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    const api = restClient(() => server.url);
    let admin: TestUser;
    let adminToken: string;
    let n = 0;
    const fresh = (what = "x") => `${what}.${Date.now().toString(36)}.${++n}@attack.test`;

    before(async () => {
      tdb = await openTestDatabase(driver);
      server = await startTestServer(tdb.db, ENV);
      admin = await createUser(tdb.db, "admin");
      adminToken = (await api.login(admin.email, admin.password)).accessToken;
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    /** Rows that any of these attacks might write. */
    async function footprint(): Promise<unknown> {
      const count = async (table: string) => (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
      const used = await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM invites WHERE used_at IS NOT NULL");
      return { users: await count("users"), memberships: await count("memberships"), invitesUsed: used.rows[0]!.n, audit: await count("audit_log") };
    }
    async function mailTo(to: string): Promise<Json> {
      let found: Json;
      await eventually(async () => {
        const { items } = await api.ok(adminToken, "GET", "/api/admin/outbox?limit=200");
        found = items.find((m: Json) => m.to === to);
        return found !== undefined;
      }, `a mail to ${to}`);
      return found;
    }
    async function invite(email: string): Promise<string> {
      await api.ok(adminToken, "POST", "/api/admin/invites", { email, role: "student", displayName: "Invitee" }, 201);
      return tokenOf((await mailTo(email)).link);
    }

    test("invite tokens: forged, reused and expired are LINK_INVALID and create nothing", async () => {
      const token = await invite(fresh("inv"));
      const before = await footprint();
      await api.refused(null, "POST", "/api/invites/accept", { token: "A".repeat(43), password: "lang-kurz-7x" }, "LINK_INVALID");
      await api.refused(null, "POST", "/api/invites/accept", { token: `${token.slice(0, -2)}xx`, password: "lang-kurz-7x" }, "LINK_INVALID");
      await api.refused(null, "POST", "/api/invites/preview", { token: "B".repeat(43) }, "LINK_INVALID");
      await api.refused(null, "POST", "/api/invites/accept", { token: "short" }, "VALIDATION_FAILED");
      assert.deepEqual(await footprint(), before);
      // A refused password leaves the token usable; the first good accept uses it up.
      await api.refused(null, "POST", "/api/invites/accept", { token, password: "short1" }, "WEAK_PASSWORD");
      await api.ok(null, "POST", "/api/invites/accept", { token, password: "lang-kurz-7x" }, 201);
      const after = await footprint();
      await api.refused(null, "POST", "/api/invites/accept", { token, password: "lang-kurz-7x" }, "LINK_INVALID");
      assert.deepEqual(await footprint(), after, "a reused token writes nothing");
      // Expired: the same token once its time has passed.
      const late = await invite(fresh("late"));
      await tdb.db.query("UPDATE invites SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [hashSecretToken(late)]);
      const beforeLate = await footprint();
      await api.refused(null, "POST", "/api/invites/accept", { token: late, password: "lang-kurz-7x" }, "LINK_INVALID");
      await api.refused(null, "POST", "/api/invites/preview", { token: late }, "LINK_INVALID");
      assert.deepEqual(await footprint(), beforeLate);
    });

    test("password reset: the same answer for a known and an unknown email; the token is single use and lives 30 minutes", async () => {
      const user = await createUser(tdb.db, "student");
      const known = await api.call(null, "POST", "/api/auth/password-reset", { email: user.email });
      const unknown = await api.call(null, "POST", "/api/auth/password-reset", { email: fresh("nobody") });
      assert.deepEqual([known.status, known.body], [202, { ok: true, pending: true }]);
      assert.deepEqual([unknown.status, unknown.body], [known.status, known.body]);
      const mail = await mailTo(user.email);
      const token = tokenOf(mail.link);
      const row = await tdb.db.query<{ seconds: number }>("SELECT extract(epoch FROM expires_at - created_at)::int AS seconds FROM password_resets WHERE token_hash = $1", [hashSecretToken(token)]);
      assert.ok(Math.abs(row.rows[0]!.seconds - 1800) <= 2, `lifetime ${row.rows[0]!.seconds} s`);
      const oldSession = await api.login(user.email, user.password);
      await api.refused(null, "POST", "/api/auth/password-reset/confirm", { token: "C".repeat(43), password: "neue-parola-9" }, "LINK_INVALID");
      await api.refused(null, "POST", "/api/auth/password-reset/confirm", { token, password: "aaaaaaaaaaaa" }, "WEAK_PASSWORD");
      const signedIn = await api.ok(null, "POST", "/api/auth/password-reset/confirm", { token, password: "neue-parola-9" });
      assert.equal(signedIn.user.id, user.id);
      await api.refused(null, "POST", "/api/auth/password-reset/confirm", { token, password: "andere-parola-9" }, "LINK_INVALID");
      await api.refused(null, "POST", "/api/auth/login", { email: user.email, password: user.password }, "INVALID_CREDENTIALS");
      await api.login(user.email, "neue-parola-9");
      await api.refused(oldSession.accessToken, "GET", "/api/me", undefined, "TOKEN_REVOKED");
      await api.refused(null, "POST", "/api/auth/refresh", { refreshToken: oldSession.refreshToken }, "TOKEN_REVOKED");
      // Expired.
      await api.ok(null, "POST", "/api/auth/password-reset", { email: user.email }, 202);
      await eventually(async () => (await tdb.db.query("SELECT 1 FROM password_resets WHERE user_id = $1 AND used_at IS NULL", [user.id])).rows.length === 1, "a second reset token");
      const { items } = await api.ok(adminToken, "GET", "/api/admin/outbox?limit=200");
      const second = tokenOf(items.find((m: Json) => m.to === user.email && m.link !== mail.link).link);
      await tdb.db.query("UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [hashSecretToken(second)]);
      await api.refused(null, "POST", "/api/auth/password-reset/confirm", { token: second, password: "dritte-parola-9" }, "LINK_INVALID");
      await api.login(user.email, "neue-parola-9");
    });

    test("sign-up and invite answer the same whether or not the email has an account", async () => {
      const coach = await createUser(tdb.db, "coach");
      const roomId = await createRoom(tdb.db, [coach]);
      const { joinCode } = await api.ok(await server.tokenFor(coach), "POST", `/api/rooms/${roomId}/join-codes`, {}, 201);
      const existing = await createUser(tdb.db, "student");
      const before = await footprint();
      const forExisting = await api.call(null, "POST", "/api/auth/signup", { code: joinCode.code, displayName: "Ali", email: existing.email, password: "kirmizi-top-3" });
      const newEmail = fresh("new");
      const forNew = await api.call(null, "POST", "/api/auth/signup", { code: joinCode.code, displayName: "Ali", email: newEmail, password: "kirmizi-top-3" });
      assert.equal(forExisting.status, 202);
      assert.deepEqual([forExisting.status, { ...forExisting.body, email: "" }], [forNew.status, { ...forNew.body, email: "" }]);
      assert.deepEqual(await footprint(), before, "sign-up creates no account before the mailed link is used");
      assert.match((await mailTo(existing.email)).subject, /already have/);
      assert.match((await mailTo(newEmail)).subject, /Confirm/);
      // Invite: same answer for an address with an account (its owner learns at the link).
      const a = await api.call(adminToken, "POST", "/api/admin/invites", { email: existing.email, role: "student" });
      const b = await api.call(adminToken, "POST", "/api/admin/invites", { email: fresh("inv2"), role: "student" });
      assert.deepEqual([a.status, Object.keys(a.body.invite)], [b.status, Object.keys(b.body.invite)]);
      const token = tokenOf((await mailTo(existing.email).then(async () => (await api.ok(adminToken, "GET", "/api/admin/outbox?limit=200")).items.find((m: Json) => m.to === existing.email && /invited/.test(m.subject)))).link);
      await api.refused(null, "POST", "/api/invites/accept", { token, password: "kirmizi-top-3", displayName: "Dup" }, "EMAIL_TAKEN");
      // Bad codes and weak passwords are refused before any mail.
      await api.refused(null, "POST", "/api/auth/signup", { code: "ZZZZ9999", displayName: "Ali", email: fresh(), password: "kirmizi-top-3" }, "JOIN_CODE_INVALID");
      await api.refused(null, "POST", "/api/auth/signup", { code: joinCode.code, displayName: "Ali", email: fresh(), password: "12345678901" }, "WEAK_PASSWORD");
      await api.refused(null, "POST", "/api/auth/signup", { code: joinCode.code, displayName: "Ali", email: "not-an-email", password: "kirmizi-top-3" }, "VALIDATION_FAILED");
      await tdb.db.query("UPDATE join_codes SET expires_at = now() - interval '1 second' WHERE code = $1", [joinCode.code]);
      await api.refused(null, "POST", "/api/auth/signup", { code: joinCode.code, displayName: "Ali", email: fresh(), password: "kirmizi-top-3" }, "JOIN_CODE_EXPIRED");
      // A confirmation link whose code expired meanwhile is refused and creates nothing.
      const confirm = tokenOf((await mailTo(newEmail)).link);
      const beforeConfirm = await footprint();
      await api.refused(null, "POST", "/api/invites/accept", { token: confirm }, "JOIN_CODE_EXPIRED");
      assert.deepEqual(await footprint(), beforeConfirm);
    });

    test("a deactivated user's access token, refresh token and open socket stop at once; messages stay; reactivation lets them back", async () => {
      const coach = await createUser(tdb.db, "coach");
      const student = await createUser(tdb.db, "student");
      const roomId = await createRoom(tdb.db, [coach, student]);
      const session = await api.login(student.email, student.password);
      const socket = server.rawSocket({ token: session.accessToken });
      await connectRaw(socket);
      const closing = new Promise<Json>((resolve) => socket.once("session:closing", resolve));
      const client = await server.client(student);
      const { seq } = await client.send(roomId, { text: "before deactivation" });
      const deactivated = await api.ok(adminToken, "POST", `/api/admin/users/${student.id}/deactivate`);
      assert.equal(deactivated.user.status, "deactivated");
      assert.deepEqual(await within(closing, "session:closing"), { reason: "account deactivated", reconnect: false });
      await eventually(() => !socket.connected, "the socket closed");
      await api.refused(session.accessToken, "GET", "/api/me", undefined, "TOKEN_REVOKED");
      await api.refused(null, "POST", "/api/auth/refresh", { refreshToken: session.refreshToken }, "TOKEN_REVOKED");
      await api.refused(null, "POST", "/api/auth/login", { email: student.email, password: student.password }, "ACCOUNT_DEACTIVATED");
      await api.refused(null, "POST", "/api/auth/login", { email: student.email, password: "wrong-password-1" }, "INVALID_CREDENTIALS");
      const events = await storedEvents(tdb.db, roomId);
      assert.equal(events.find((e) => e.seq === seq)?.body.text, "before deactivation", "their messages stay");
      const audit = await api.ok(adminToken, "GET", `/api/admin/audit?action=user.deactivate&targetId=${student.id}`);
      assert.equal(audit.items.length, 1);
      // Deactivating again changes nothing and logs nothing.
      await api.ok(adminToken, "POST", `/api/admin/users/${student.id}/deactivate`);
      assert.equal((await api.ok(adminToken, "GET", `/api/admin/audit?action=user.deactivate&targetId=${student.id}`)).items.length, 1);
      await api.ok(adminToken, "POST", `/api/admin/users/${student.id}/reactivate`);
      const again = await api.login(student.email, student.password);
      await api.ok(again.accessToken, "GET", "/api/me");
      await api.refused(session.accessToken, "GET", "/api/me", undefined, "TOKEN_REVOKED");
      await api.refused(adminToken, "POST", `/api/admin/users/${admin.id}/deactivate`, undefined, "CONFLICT");
    });

    test("a coach (and a student) gets FORBIDDEN from every admin route, whatever the body, and nothing is written", async () => {
      const coach = await createUser(tdb.db, "coach");
      const student = await createUser(tdb.db, "student");
      const before = await footprint();
      const routes: Array<[string, string, unknown]> = [
        ["GET", "/api/admin/users", undefined],
        ["GET", "/api/admin/users?limit=0", undefined],
        ["POST", "/api/admin/users", { email: fresh("esc"), displayName: "Me", role: "admin" }],
        ["POST", "/api/admin/users", "not json"],
        ["GET", "/api/admin/users/export.csv", undefined],
        ["POST", "/api/admin/users/import", { csv: `name,email,role\nMe,${fresh("esc")},admin\n` }],
        ["GET", `/api/admin/users/${coach.id}`, undefined],
        ["PATCH", `/api/admin/users/${coach.id}`, { role: "admin" }],
        ["POST", `/api/admin/users/${student.id}/deactivate`, undefined],
        ["POST", `/api/admin/users/${admin.id}/deactivate`, undefined],
        ["POST", `/api/admin/users/${coach.id}/reactivate`, undefined],
        ["POST", "/api/admin/invites", { email: fresh("esc"), role: "admin" }],
        ["GET", "/api/admin/outbox", undefined],
        ["GET", "/api/admin/audit", undefined],
      ];
      for (const who of [coach, student]) {
        const token = await server.tokenFor(who);
        for (const [method, path, body] of routes) await api.refused(token, method, path, body, "FORBIDDEN");
      }
      assert.deepEqual(await footprint(), before);
      assert.equal((await tdb.db.query<{ role: string }>("SELECT role FROM users WHERE id = $1", [coach.id])).rows[0]!.role, "coach");
    });

    test("an admin changes a role: the old token stops, a refresh carries the new role; parents and self are refused", async () => {
      const user = await createUser(tdb.db, "student");
      const session = await api.login(user.email, user.password);
      const changed = await api.ok(adminToken, "PATCH", `/api/admin/users/${user.id}`, { role: "coach" });
      assert.equal(changed.user.role, "coach");
      await api.refused(session.accessToken, "GET", "/api/me", undefined, "TOKEN_REVOKED");
      const refreshed = await api.ok(null, "POST", "/api/auth/refresh", { refreshToken: session.refreshToken });
      assert.equal(refreshed.user.role, "coach");
      await api.refused(adminToken, "PATCH", `/api/admin/users/${user.id}`, { role: "parent" }, "VALIDATION_FAILED");
      await api.refused(adminToken, "PATCH", `/api/admin/users/${admin.id}`, { role: "student" }, "CONFLICT");
      const parent = await createUser(tdb.db, "parent");
      await api.refused(adminToken, "PATCH", `/api/admin/users/${parent.id}`, { role: "coach" }, "VALIDATION_FAILED");
      const audit = await api.ok(adminToken, "GET", `/api/admin/audit?action=user.role&targetId=${user.id}`);
      assert.deepEqual(audit.items.map((a: Json) => a.details), [{ from: "student", to: "coach" }]);
    });

    test("password change: needs the current password, passes the rule, ends every other session", async () => {
      const user = await createUser(tdb.db, "coach");
      const mine = await api.login(user.email, user.password);
      const other = await api.login(user.email, user.password);
      const socket = server.rawSocket({ token: other.accessToken });
      await connectRaw(socket);
      await api.refused(mine.accessToken, "POST", "/api/me/password", { currentPassword: "wrong-one-12", newPassword: "yeni-sifre-42" }, "INVALID_CREDENTIALS");
      await api.refused(mine.accessToken, "POST", "/api/me/password", { currentPassword: user.password, newPassword: "short" }, "WEAK_PASSWORD");
      const weak = await api.refused(mine.accessToken, "POST", "/api/me/password", { currentPassword: user.password, newPassword: user.email }, "WEAK_PASSWORD");
      assert.match(weak.message, /The password must/);
      await api.login(user.email, user.password);
      const fresh = await api.ok(mine.accessToken, "POST", "/api/me/password", { currentPassword: user.password, newPassword: "yeni-sifre-42" });
      await eventually(() => !socket.connected, "the other session's socket closed");
      await api.refused(other.accessToken, "GET", "/api/me", undefined, "TOKEN_REVOKED");
      await api.refused(null, "POST", "/api/auth/refresh", { refreshToken: other.refreshToken }, "TOKEN_REVOKED");
      await api.ok(fresh.accessToken, "GET", "/api/me");
      await api.ok(null, "POST", "/api/auth/refresh", { refreshToken: fresh.refreshToken });
      await api.login(user.email, "yeni-sifre-42");
    });

    test("a hash made with older scrypt parameters is replaced on the next login", async () => {
      const user = await createUser(tdb.db, "student");
      const { scrypt, randomBytes } = await import("node:crypto");
      const salt = randomBytes(16);
      const key = await new Promise<Buffer>((resolve, reject) => scrypt(user.password, salt, 64, { N: 1024, r: 8, p: 1 }, (err, k) => (err ? reject(err) : resolve(k))));
      await tdb.db.query("UPDATE users SET password_hash = $2 WHERE id = $1", [user.id, ["scrypt", 1024, 8, 1, salt.toString("base64"), key.toString("base64")].join("$")]);
      await api.login(user.email, user.password);
      const stored = await tdb.db.query<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1", [user.id]);
      assert.match(stored.rows[0]!.password_hash, /^scrypt\$16384\$8\$1\$/);
      await api.login(user.email, user.password);
    });
  });
}
