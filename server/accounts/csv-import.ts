import { z } from "zod";
import type { Db, Queryable } from "../../db/db.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { RoomService } from "../coaching/room-service.ts";
import type { Mailer } from "../mail/mailer.ts";
import { insertUser, normalEmail } from "./account-store.ts";
import { AuditLog } from "./audit-log.ts";
import { CsvSyntaxError, parseCsv, type CsvRecord } from "./csv.ts";
import type { PasswordService } from "./password-service.ts";
import type { Actor } from "./people-service.ts";
import { requirePermission } from "./roles.ts";

/** Most data rows one import takes (the request body limit, 64 KiB, usually comes first). */
export const IMPORT_MAX_ROWS = 1000;

const REQUIRED = ["name", "email", "role"] as const;
const OPTIONAL = ["coach", "room"] as const;
type Column = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];
const IMPORT_ROLES = ["student", "coach", "admin"] as const;
const emailSchema = z.email().max(254);

/** A bad row: its line in the file (the header is line 1) and why. */
export interface ImportRowError {
  line: number;
  reason: string;
}

/** The answer of a dry run or an import. */
export interface ImportReport {
  dryRun: boolean;
  /** Data rows read (blank lines skipped). */
  rows: number;
  /** Every bad row; an import with any is refused and writes nothing. */
  errors: ImportRowError[];
  /** Accounts created (0 for a dry run). */
  created: number;
}

interface ImportRow {
  line: number;
  name: string;
  email: string;
  role: (typeof IMPORT_ROLES)[number];
  coach: string | null;
  room: string | null;
}

/**
 * CSV import of people: `name,email,role` and optional `coach` (the email of a coach, existing or
 * in the same file: the student gets a 1:1 room with them) and `room` (the id or exact name of
 * one of the institution's group rooms to join). A dry run reports every bad row and writes
 * nothing; an import is all or nothing, and mails each new account its welcome link. Cells are
 * stored exactly as text (a `=cmd|…` name stays a name; CSV written back escapes it).
 */
export class CsvImport {
  constructor(
    private readonly db: Db,
    private readonly rooms: RoomService,
    private readonly mailer: Mailer,
    private readonly passwords: PasswordService,
  ) {}

  async run(actor: Actor, file: Buffer | string, dryRun: boolean): Promise<ImportReport> {
    requirePermission(actor.principal.role, "people.manage");
    const institutionId = actor.principal.institutionId;
    const records = readRecords(file);
    const { rows, errors } = shapeRows(records);
    const roomIds = await this.checkAgainstDatabase(institutionId, rows, errors);
    errors.sort((a, b) => a.line - b.line);
    if (dryRun) return { dryRun, rows: records.length - 1, errors, created: 0 };
    if (errors.length > 0) {
      const first = errors.slice(0, 5).map((e) => `line ${e.line}: ${e.reason}`).join("; ");
      throw new CoachwireError("CSV_INVALID", `${errors.length} bad row(s), nothing imported (a dry run lists them all): ${first}`);
    }
    const naturalKeys: string[] = [];
    await this.rooms.importAcross([...new Set(roomIds.values())], async (ops) => {
      const ids = new Map<string, string>();
      for (const row of rows) {
        const user = await insertUser(ops.tx, { institutionId, email: row.email, displayName: row.name, role: row.role, passwordHash: null });
        ids.set(row.email, user.id);
        naturalKeys.push((await this.passwords.queueWelcome(ops.tx, user)).naturalKey);
      }
      const coachIds = await this.coachIds(ops.tx, institutionId, rows, ids);
      for (const row of rows) {
        const userId = ids.get(row.email)!;
        if (row.room) await ops.join(roomIds.get(row.line)!, userId, row.role === "student" ? "student" : "coach");
        if (row.coach) await ops.direct(coachIds.get(row.coach)!, userId, row.name);
      }
      await AuditLog.record(ops.tx, {
        institutionId,
        actorId: actor.principal.userId,
        action: "user.import",
        targetType: "import",
        targetId: null,
        ip: actor.ip,
        details: { rows: rows.length, userIds: [...ids.values()] },
      });
    });
    this.mailer.dispatch(naturalKeys);
    return { dryRun, rows: rows.length, errors: [], created: rows.length };
  }

  /** Emails in use, rooms and coaches that do not exist: added to `errors`. Returns each row's room id. */
  private async checkAgainstDatabase(institutionId: string, rows: ImportRow[], errors: ImportRowError[]): Promise<Map<number, string>> {
    const taken = await this.db.query<{ email: string }>("SELECT email FROM users WHERE email = ANY($1::text[])", [rows.map((r) => r.email)]);
    const inUse = new Set(taken.rows.map((r) => r.email));
    const wantedRooms = [...new Set(rows.flatMap((r) => (r.room ? [r.room] : [])))];
    const rooms = await this.db.query<{ id: string; name: string }>(
      "SELECT id, name FROM rooms WHERE institution_id = $1 AND kind = 'group' AND (id = ANY($2::text[]) OR name = ANY($2::text[]))",
      [institutionId, wantedRooms],
    );
    const wantedCoaches = [...new Set(rows.flatMap((r) => (r.coach ? [r.coach] : [])))];
    const coaches = await this.db.query<{ email: string }>(
      "SELECT email FROM users WHERE institution_id = $1 AND email = ANY($2::text[]) AND role IN ('coach', 'admin') AND status = 'active'",
      [institutionId, wantedCoaches],
    );
    const knownCoaches = new Set([...coaches.rows.map((r) => r.email), ...rows.filter((r) => r.role !== "student").map((r) => r.email)]);
    const roomIds = new Map<number, string>();
    for (const row of rows) {
      if (inUse.has(row.email)) errors.push({ line: row.line, reason: `email ${row.email} already has an account` });
      if (row.room) {
        const byId = rooms.rows.find((r) => r.id === row.room);
        const byName = rooms.rows.filter((r) => r.name === row.room);
        if (byId) roomIds.set(row.line, byId.id);
        else if (byName.length === 1) roomIds.set(row.line, byName[0]!.id);
        else errors.push({ line: row.line, reason: byName.length > 1 ? `room "${row.room}": several rooms have this name; use its id` : `room "${row.room}": no such room` });
      }
      if (row.coach && !knownCoaches.has(row.coach)) errors.push({ line: row.line, reason: `coach ${row.coach}: no coach with this email` });
    }
    return roomIds;
  }

  private async coachIds(tx: Queryable, institutionId: string, rows: ImportRow[], created: Map<string, string>): Promise<Map<string, string>> {
    const emails = [...new Set(rows.flatMap((r) => (r.coach ? [r.coach] : [])))];
    const res = await tx.query<{ id: string; email: string }>("SELECT id, email FROM users WHERE institution_id = $1 AND email = ANY($2::text[])", [institutionId, emails]);
    return new Map([...created.entries(), ...res.rows.map((r) => [r.email, r.id] as const)]);
  }
}

/** The file as CSV records, header first: bad bytes, a broken quote, wrong columns or no rows are CSV_INVALID. */
function readRecords(file: Buffer | string): CsvRecord[] {
  let text: string;
  if (typeof file === "string") {
    // Text a browser decoded with the wrong charset carries U+FFFD where the bytes did not fit.
    if (file.includes("\uFFFD")) throw new CoachwireError("CSV_INVALID", "The file is not UTF-8 text (save it as CSV UTF-8)");
    text = file;
  } else {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(file);
    } catch {
      throw new CoachwireError("CSV_INVALID", "The file is not UTF-8 text (save it as CSV UTF-8)");
    }
  }
  if (text.includes("\u0000")) throw new CoachwireError("CSV_INVALID", "The file contains NUL bytes; it is not a CSV text file");
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new CoachwireError("CSV_INVALID", err.message);
    throw err;
  }
  if (records.length === 0) throw new CoachwireError("CSV_INVALID", "The file is empty");
  if (records.length - 1 > IMPORT_MAX_ROWS) throw new CoachwireError("PAYLOAD_TOO_LARGE", `At most ${IMPORT_MAX_ROWS} rows per import`);
  if (records.length === 1) throw new CoachwireError("CSV_INVALID", "The file has a header but no rows");
  return records;
}

/** Checks the header and each row's own cells (no database); duplicates within the file too. */
function shapeRows(records: CsvRecord[]): { rows: ImportRow[]; errors: ImportRowError[] } {
  const header = records[0]!.cells.map((c) => c.trim().toLowerCase());
  const known = new Set<string>([...REQUIRED, ...OPTIONAL]);
  const wrong = header.filter((c) => !known.has(c));
  const missing = REQUIRED.filter((c) => !header.includes(c));
  const repeated = header.filter((c, i) => header.indexOf(c) !== i);
  if (wrong.length > 0 || missing.length > 0 || repeated.length > 0) {
    const what = [
      missing.length > 0 ? `missing ${missing.join(", ")}` : "",
      wrong.length > 0 ? `unknown ${wrong.map((c) => JSON.stringify(c.slice(0, 40))).join(", ")}` : "",
      repeated.length > 0 ? `repeated ${repeated.join(", ")}` : "",
    ].filter(Boolean);
    throw new CoachwireError("CSV_INVALID", `line 1: the columns must be name,email,role and optionally coach,room (${what.join("; ")})`);
  }
  const col = (cells: string[], name: Column) => {
    const i = header.indexOf(name);
    return i < 0 ? "" : (cells[i] ?? "").trim();
  };
  const rows: ImportRow[] = [];
  const errors: ImportRowError[] = [];
  const firstLine = new Map<string, number>();
  for (const { line, cells } of records.slice(1)) {
    const reasons: string[] = [];
    if (cells.length !== header.length) reasons.push(`has ${cells.length} cells, the header has ${header.length}`);
    const name = col(cells, "name");
    const email = normalEmail(col(cells, "email"));
    const role = col(cells, "role").toLowerCase();
    const coach = normalEmail(col(cells, "coach")) || null;
    const room = col(cells, "room") || null;
    if (name === "") reasons.push("name is empty");
    else if (name.length > 100) reasons.push("name is longer than 100 characters");
    if (!emailSchema.safeParse(email).success) reasons.push(email === "" ? "email is empty" : `email "${email.slice(0, 80)}" is not an email address`);
    if (!(IMPORT_ROLES as readonly string[]).includes(role)) reasons.push(`role "${role.slice(0, 20)}" must be student, coach or admin`);
    if (coach && role !== "student") reasons.push("coach is only for student rows");
    if (coach && !emailSchema.safeParse(coach).success) reasons.push(`coach "${coach.slice(0, 80)}" is not an email address`);
    if (room && room.length > 100) reasons.push("room is longer than 100 characters");
    const seen = firstLine.get(email);
    if (email !== "" && seen !== undefined) reasons.push(`email ${email} is also on line ${seen}`);
    else if (email !== "") firstLine.set(email, line);
    if (reasons.length > 0) errors.push({ line, reason: reasons.join("; ") });
    else rows.push({ line, name, email, role: role as ImportRow["role"], coach, room });
  }
  return { rows, errors };
}
