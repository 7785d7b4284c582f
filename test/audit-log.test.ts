import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { openDb } from "../db/open.ts";
import { restClient, tokenOf, type Json } from "./support/accounts-api.ts";
import { request, within } from "./support/bad-input-table.ts";
import { availableDrivers, openTestDatabase, PG_URL, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { connectRaw, startTestServer, type TestServer } from "./support/server.ts";

/**
 * The audit log: moderation actions (mute, unmute, remove, delete message — over REST and the
 * socket) are audited with actor, target and IP; `GET /api/admin/audit` filters and pages; the
 * table refuses UPDATE and DELETE. And the first-run bootstrap CLI, end to end. Runs on PGlite
 * and PostgreSQL.
 */

const ENV = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_LOGIN_RATE_PER_MIN: "100000", COACHWIRE_SEND_RATE_PER_S: "10000", COACHWIRE_SEND_BURST: "10000" };
const run = promisify(execFile);

for (const driver of await availableDrivers()) {
  describe(`audit log and bootstrap (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    const api = restClient(() => server.url);
    let adminToken: string;
    let admin: TestUser;

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

    test("mute, unmute, remove and delete message are each one audit row (REST and socket), with actor, target and IP", async () => {
      const coach = await createUser(tdb.db, "coach");
      const [s1, s2] = [await createUser(tdb.db), await createUser(tdb.db)];
      const roomId = await createRoom(tdb.db, [coach, s1, s2]);
      const token = await server.tokenFor(coach);
      const since = Date.now() - 1000;
      await api.ok(token, "POST", `/api/rooms/${roomId}/members/${s1.id}/mute`, { muted: true });
      await api.ok(token, "POST", `/api/rooms/${roomId}/members/${s1.id}/mute`, { muted: true }); // no change: no row
      await api.ok(token, "POST", `/api/rooms/${roomId}/members/${s1.id}/mute`, { muted: false });
      const student = await server.client(s2);
      const { seq: first } = await student.send(roomId, { text: "one" });
      const { seq: second } = await student.send(roomId, { text: "two" });
      await api.ok(token, "DELETE", `/api/rooms/${roomId}/events/${first}`);
      const socket = server.rawSocket({ token });
      await connectRaw(socket);
      const ack = await within(request(socket, "msg:delete", [{ roomId, seq: second }]), "msg:delete ack");
      assert.equal(ack.ok, true);
      await api.ok(token, "DELETE", `/api/rooms/${roomId}/members/${s2.id}`);
      const { items } = await api.ok(adminToken, "GET", `/api/admin/audit?actorId=${coach.id}&since=${since}`);
      assert.deepEqual(
        items.map((a: Json) => [a.action, a.targetType, a.targetId, a.ip, a.details]).reverse(),
        [
          ["member.mute", "user", s1.id, "127.0.0.1", { roomId }],
          ["member.unmute", "user", s1.id, "127.0.0.1", { roomId }],
          ["message.delete", "message", `${roomId}:${first}`, "127.0.0.1", { roomId, seq: first }],
          ["message.delete", "message", `${roomId}:${second}`, "127.0.0.1", { roomId, seq: second }],
          ["member.remove", "user", s2.id, "127.0.0.1", { roomId }],
        ],
      );
      assert.ok(items.every((a: Json) => a.actorId === coach.id && a.institutionId === "demo" && a.createdAt >= since));
    });

    test("filters and cursor paging; a bad cursor or filter is VALIDATION_FAILED", async () => {
      const targets: string[] = [];
      for (let i = 0; i < 5; i++) {
        const u = await createUser(tdb.db, "student");
        targets.push(u.id);
        await api.ok(adminToken, "POST", `/api/admin/users/${u.id}/deactivate`);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Json = await api.ok(adminToken, "GET", `/api/admin/audit?action=user.deactivate&actorId=${admin.id}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((a: Json) => a.targetId));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(seen.slice(0, 5), [...targets].reverse(), "newest first, no repeats, nothing skipped");
      const one = await api.ok(adminToken, "GET", `/api/admin/audit?targetId=${targets[2]}`);
      assert.deepEqual(one.items.map((a: Json) => a.action), ["user.deactivate"]);
      const future = await api.ok(adminToken, "GET", `/api/admin/audit?since=${Date.now() + 60_000}`);
      assert.deepEqual(future.items, []);
      await api.refused(adminToken, "GET", "/api/admin/audit?cursor=bm9wZQ", undefined, "VALIDATION_FAILED");
      await api.refused(adminToken, "GET", "/api/admin/audit?action=DROP%20TABLE", undefined, "VALIDATION_FAILED");
      await api.refused(adminToken, "GET", "/api/admin/audit?limit=1000", undefined, "VALIDATION_FAILED");
    });

    test("the audit table is append-only: UPDATE, DELETE and TRUNCATE are refused", async () => {
      const before = await tdb.db.query("SELECT * FROM audit_log ORDER BY id");
      assert.ok(before.rows.length > 0);
      await assert.rejects(tdb.db.query("UPDATE audit_log SET action = 'nothing'"), /append-only/);
      await assert.rejects(tdb.db.query("DELETE FROM audit_log"), /append-only/);
      await assert.rejects(tdb.db.exec("TRUNCATE audit_log"), /append-only/);
      assert.deepEqual((await tdb.db.query("SELECT * FROM audit_log ORDER BY id")).rows, before.rows);
    });

    test("npm run admin -- create-institution prints a one-time link; its admin sets a password and sees only the new institution", { timeout: 120_000 }, async () => {
      // The CLI opens the same database the server uses: a schema of PostgreSQL, or a PGlite directory of its own.
      const dir = driver === "pglite" ? mkdtempSync(join(tmpdir(), "coachwire-cli-")) : undefined;
      const env = { ...process.env, COACHWIRE_PUBLIC_URL: "http://school.test", COACHWIRE_LOG_LEVEL: "silent", ...(dir ? { COACHWIRE_DATA_DIR: dir } : { DATABASE_URL: PG_URL, COACHWIRE_DB_SCHEMA: tdb.schema! }) };
      const cli = (args: string[]) => run(process.execPath, ["--import", "tsx", "server/admin-cli.ts", ...args], { env, cwd: process.cwd() });
      await assert.rejects(cli(["create-institution", "--name", "X"]), (err: { code?: number; stderr?: string }) => err.code === 64 && /usage:/.test(err.stderr ?? ""));
      await assert.rejects(cli(["create-institution", "--name", "X", "--admin-email", "nope"]), (err: { stderr?: string }) => /VALIDATION_FAILED: adminEmail/.test(err.stderr ?? ""));
      const { stdout } = await cli(["create-institution", "--name", "Işık Dershanesi", "--admin-email", "Mudur@Isik.test", "--admin-name", "Müdür"]);
      const link = /(http:\/\/school\.test\/set-password#token=\S+)/.exec(stdout)?.[1];
      assert.ok(link, stdout);
      const institutionId = /\(id (isik-dershanesi-[0-9a-f]{6})\)/.exec(stdout)?.[1];
      assert.ok(institutionId, stdout);
      let other: TestServer | undefined;
      let otherDb: import("../db/db.ts").Db | undefined;
      try {
        if (dir) {
          otherDb = await openDb({ dataDir: dir });
          other = await startTestServer(otherDb, ENV);
        }
        const target = other ?? server;
        const api2 = restClient(() => target.url);
        const signedIn = await api2.ok(null, "POST", "/api/auth/password-reset/confirm", { token: tokenOf(link), password: "ilk-sifre-2026" });
        assert.deepEqual([signedIn.user.role, signedIn.user.institutionId, signedIn.user.email], ["admin", institutionId, "mudur@isik.test"]);
        await api2.refused(null, "POST", "/api/auth/password-reset/confirm", { token: tokenOf(link), password: "ilk-sifre-2026" }, "LINK_INVALID");
        const users = await api2.ok(signedIn.accessToken, "GET", "/api/admin/users");
        assert.deepEqual(users.items.map((u: Json) => u.email), ["mudur@isik.test"]);
        const me = await api2.ok(signedIn.accessToken, "GET", "/api/me");
        assert.deepEqual(me.user.institution, { id: institutionId, name: "Işık Dershanesi" });
        const audit = await api2.ok(signedIn.accessToken, "GET", "/api/admin/audit");
        assert.deepEqual(audit.items.map((a: Json) => [a.action, a.actorId]), [["institution.create", null]]);
      } finally {
        await other?.close();
        await otherDb?.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
