import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { csvCell, parseCsv } from "../server/accounts/csv.ts";
import { restClient, type Json } from "./support/accounts-api.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

/**
 * CSV import of people: the parser, the dry run that reports every bad row by line and writes
 * nothing, the all-or-nothing import (rooms and 1:1 coach rooms included), wrong columns, bad
 * encodings, duplicates in the file and against existing accounts, a 10 MB body, and formula
 * cells stored as text and escaped when exported. Runs on PGlite and PostgreSQL.
 */

describe("CSV parsing and writing", () => {
  test("quotes, doubled quotes, line breaks in a cell, CRLF, a BOM, blank lines; lines are where the record starts", () => {
    const text = '\uFEFFname,email\r\n"Koç, Ayşe",a@x\r\n\r\n"two\nlines","say ""hi"""\nlast,z@x';
    assert.deepEqual(parseCsv(text), [
      { line: 1, cells: ["name", "email"] },
      { line: 2, cells: ["Koç, Ayşe", "a@x"] },
      { line: 4, cells: ["two\nlines", 'say "hi"'] },
      { line: 6, cells: ["last", "z@x"] },
    ]);
    assert.throws(() => parseCsv('name\n"never closed'), /line 2: a quoted field is never closed/);
  });

  test("written cells defuse formulas and quote what needs quoting", () => {
    assert.equal(csvCell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
    for (const start of ["+", "-", "@", "\t", "\r"]) assert.equal(csvCell(`${start}1`).replace(/^"/, "")[0], "'", JSON.stringify(start));
    assert.equal(csvCell('a,"b"'), '"a,""b"""');
    assert.equal(csvCell("Ayşe"), "Ayşe");
  });
});

const ENV = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_LOGIN_RATE_PER_MIN: "100000" };

for (const driver of await availableDrivers()) {
  describe(`CSV import of people (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    const api = restClient(() => server.url);
    let adminToken: string;
    let coach: TestUser;
    let roomId: string;
    let n = 0;
    const tag = () => `${Date.now().toString(36)}${++n}`;

    before(async () => {
      tdb = await openTestDatabase(driver);
      server = await startTestServer(tdb.db, ENV);
      const admin = await createUser(tdb.db, "admin");
      adminToken = (await api.login(admin.email, admin.password)).accessToken;
      coach = await createUser(tdb.db, "coach");
      roomId = await createRoom(tdb.db, [coach]);
      await tdb.db.query("UPDATE rooms SET name = '10-A' WHERE id = $1", [roomId]);
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    async function footprint(): Promise<unknown> {
      const q = async (sql: string) => (await tdb.db.query<{ n: number }>(sql)).rows[0]!.n;
      return {
        users: await q("SELECT count(*)::int AS n FROM users"),
        memberships: await q("SELECT count(*)::int AS n FROM memberships"),
        rooms: await q("SELECT count(*)::int AS n FROM rooms"),
        outbox: await q("SELECT count(*)::int AS n FROM outbox"),
        audit: await q("SELECT count(*)::int AS n FROM audit_log"),
      };
    }
    const dryRun = (csv: string) => api.ok(adminToken, "POST", "/api/admin/users/import", { csv, dryRun: true });

    test("a dry run lists every bad row with its line and reason; the import of the same file is refused; nothing is written", async () => {
      const t = tag();
      const existing = await createUser(tdb.db, "student");
      const csv = [
        "Name,Email,Role,Room,Coach",
        `Ok One,one.${t}@x.test,student,10-A,`,
        `,noname.${t}@x.test,student,,`,
        `Bad Mail,not-an-email,student,,`,
        `Bad Role,role.${t}@x.test,principal,,`,
        `Dup A,dup.${t}@x.test,student,,`,
        `Dup B,DUP.${t}@x.test,student,,`,
        `Existing,${existing.email},student,,`,
        `No Room,room.${t}@x.test,student,Nowhere,`,
        `No Coach,coach.${t}@x.test,student,,nobody.${t}@x.test`,
        `Coach Coach,cc.${t}@x.test,coach,,${coach.email}`,
        `Short,short.${t}@x.test`,
        `"=HYPERLINK(""http://evil"")",formula.${t}@x.test,student,,`,
      ].join("\n");
      const before = await footprint();
      const { report } = await dryRun(csv);
      assert.equal(report.rows, 12);
      assert.deepEqual(
        report.errors.map((e: Json) => e.line),
        [3, 4, 5, 7, 8, 9, 10, 11, 12],
      );
      const reason = (line: number) => report.errors.find((e: Json) => e.line === line).reason;
      assert.match(reason(3), /name is empty/);
      assert.match(reason(4), /not an email address/);
      assert.match(reason(5), /role "principal" must be student, coach or admin/);
      assert.match(reason(7), new RegExp(`email dup.${t}@x.test is also on line 6`));
      assert.match(reason(8), /already has an account/);
      assert.match(reason(9), /room "Nowhere": no such room/);
      assert.match(reason(10), /no coach with this email/);
      assert.match(reason(11), /coach is only for student rows/);
      assert.match(reason(12), /has 2 cells, the header has 5/);
      assert.deepEqual(await footprint(), before, "the dry run wrote nothing");
      const refused = await api.refused(adminToken, "POST", "/api/admin/users/import", { csv }, "CSV_INVALID");
      assert.match(refused.message, /9 bad row\(s\), nothing imported/);
      assert.deepEqual(await footprint(), before, "the refused import wrote nothing");
    });

    test("an import is all or nothing: accounts, room memberships and 1:1 coach rooms, one audit row, formula names kept as text", async () => {
      const t = tag();
      const csv = [
        "name,email,role,room,coach",
        `Selin,selin.${t}@x.test,student,10-A,`,
        `Kaan,kaan.${t}@x.test,student,${roomId},new.coach.${t}@x.test`,
        `New Coach,new.coach.${t}@x.test,coach,,`,
        `=cmd|' /C calc'!A0,formula.${t}@x.test,student,,${coach.email}`,
      ].join("\n");
      const { report } = await api.ok(adminToken, "POST", "/api/admin/users/import", { csv });
      assert.deepEqual(report, { dryRun: false, rows: 4, errors: [], created: 4 });
      const users = await tdb.db.query<{ id: string; email: string; display_name: string; role: string }>("SELECT id, email, display_name, role FROM users WHERE email LIKE $1 ORDER BY email", [`%.${t}@x.test`]);
      assert.equal(users.rows.length, 4);
      const byEmail = (e: string) => users.rows.find((u) => u.email === e)!;
      assert.equal(byEmail(`formula.${t}@x.test`).display_name, "=cmd|' /C calc'!A0");
      const members = await tdb.db.query<{ user_id: string }>("SELECT user_id FROM memberships WHERE room_id = $1 ORDER BY user_id", [roomId]);
      assert.ok(members.rows.some((m) => m.user_id === byEmail(`selin.${t}@x.test`).id));
      assert.ok(members.rows.some((m) => m.user_id === byEmail(`kaan.${t}@x.test`).id));
      const direct = await tdb.db.query("SELECT 1 FROM rooms WHERE kind = 'direct' AND created_by = $1 AND direct_student_id = $2", [byEmail(`new.coach.${t}@x.test`).id, byEmail(`kaan.${t}@x.test`).id]);
      assert.equal(direct.rows.length, 1, "Kaan has a 1:1 room with the coach from the same file");
      const audit = await api.ok(adminToken, "GET", "/api/admin/audit?action=user.import&limit=1");
      assert.equal(audit.items[0].details.rows, 4);
      const exported = await api.call(adminToken, "GET", "/api/admin/users/export.csv");
      assert.ok(exported.text.includes(`'=cmd|' /C calc'!A0,formula.${t}@x.test,student,active`));
      assert.ok(!exported.text.includes(`\r\n=cmd`), "never re-exported unescaped");
      // The same file again: every row is now an existing account, and nothing is written.
      const before = await footprint();
      await api.refused(adminToken, "POST", "/api/admin/users/import", { csv }, "CSV_INVALID");
      assert.deepEqual(await footprint(), before);
    });

    test("wrong columns, empty files, bad encodings, NUL bytes and an unterminated quote are CSV_INVALID; a 10 MB body is PAYLOAD_TOO_LARGE", async () => {
      const before = await footprint();
      const bad: Array<[string, RegExp]> = [
        ["email,role\nx@y.test,student", /missing name/],
        ["name,email,role,phone\nA,a@y.test,student,555", /unknown "phone"/],
        ["name,email,role,email\nA,a@y.test,student,b@y.test", /repeated email/],
        ["", /empty/],
        ["name,email,role\n", /no rows/],
        ['name,email,role\n"A,a@y.test,student', /never closed/],
        ["name,email,role\nA\u0000,a@y.test,student", /NUL/],
        ["name,email,role\nAy\uFFFDe,a@y.test,student", /not UTF-8/],
      ];
      for (const [csv, says] of bad) {
        const err = await api.refused(adminToken, "POST", "/api/admin/users/import", { csv: csv || " ", dryRun: true }, "CSV_INVALID");
        if (csv !== "") assert.match(err.message, says, JSON.stringify(csv));
      }
      // A file saved as Windows-1254 (Turkish) sent as text/csv: "Ayşe" with ş = 0xFE.
      const win1254 = Buffer.concat([Buffer.from("name,email,role\nAy"), Buffer.from([0xfe]), Buffer.from("e,ayse@y.test,student\n")]);
      const err = await api.refused(adminToken, "POST", "/api/admin/users/import?dryRun=true", win1254, "CSV_INVALID", { "content-type": "text/csv" });
      assert.match(err.message, /not UTF-8/);
      // The same file in UTF-8, as text/csv, is fine.
      const utf8 = await api.call(adminToken, "POST", "/api/admin/users/import?dryRun=true", Buffer.from(`name,email,role\nAyşe,ayse.${tag()}@y.test,student\n`), { "content-type": "text/csv" });
      assert.deepEqual(utf8.body.report.errors, []);
      const big = `name,email,role\n${"A,a@y.test,student\n".repeat(10 * 1024 * 1024 / 19)}`;
      await api.refused(adminToken, "POST", "/api/admin/users/import", { csv: big }, "PAYLOAD_TOO_LARGE");
      await api.refused(adminToken, "POST", "/api/admin/users/import", { csv: "name,email,role\nA,a@y.test,student", dryRun: "yes" }, "VALIDATION_FAILED");
      assert.deepEqual(await footprint(), before);
    });
  });
}
