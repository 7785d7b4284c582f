import type { Db } from "../db/db.ts";
import type { ClientResult } from "./client-proc.ts";
import { auditCoaching, type CoachingAudit } from "./coaching-audit.ts";
import { auditNotices, type NoticeAudit, type NoticeAuditOptions } from "./notice-audit.ts";

/** The verdict on one run: nothing acknowledged lost, nothing stored or delivered twice. */
export interface AuditReport {
  ok: boolean;
  ackedSends: number;
  /** Acked sends, tasks, reports and read marks with no row in PostgreSQL (or a row under another seq); notices missing or not delivered. */
  lost: number;
  /** Messages, tasks, reports and notices stored more than once, resends counted as new, and events delivered more than once to a user. */
  duplicated: number;
  usersChecked: number;
  /** Users whose delivered seqs skipped one. */
  usersWithGaps: number;
  /** Users who did not reach their room's last seq. */
  usersBehind: number;
  storedRows: number | null;
  /** Tasks, progress and read marks (null without a database: the reference). */
  coaching: CoachingAudit | null;
  /** Reminders, nudges, overdue notices and digests (null without a database). */
  notices: NoticeAudit | null;
  problems: string[];
}

const CHUNK = 5000;

/**
 * Every acked send against the database, every user's delivery run against the room's last seq
 * (which covers every kind of room event: chat, task.created, task.progress, notice), the
 * coaching traffic's tasks, reports and read marks (bench/coaching-audit.ts), and the job
 * worker's notices (bench/notice-audit.ts).
 */
export async function audit(db: Db | undefined, results: ClientResult[], lastSeqs: Record<string, number>, noticeOptions: NoticeAuditOptions): Promise<AuditReport> {
  const problems: string[] = [];
  const note = (p: string) => problems.length < 25 && problems.push(p);
  const acked = results.flatMap((r) => r.acked);
  let lost = 0;
  let duplicated = 0;
  let storedRows: number | null = null;
  let coaching: CoachingAudit | null = null;
  let notices: NoticeAudit | null = null;
  const users = results.flatMap((r) => r.audit);

  if (db) {
    for (let i = 0; i < acked.length; i += CHUNK) {
      const chunk = acked.slice(i, i + CHUNK);
      // A clientId is scoped to its sender (db/migrations/006_room_rules.sql): look it up as the sender's.
      const found = await db.query<{ room_id: string; sender_id: string; client_id: string; seq: number }>(
        `SELECT room_id, sender_id, client_id, seq FROM room_events
          WHERE (room_id, sender_id, client_id) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
        [chunk.map((a) => a[0]), chunk.map((a) => a[1]), chunk.map((a) => a[2])],
      );
      const stored = new Map(found.rows.map((r) => [`${r.room_id}\t${r.sender_id}\t${r.client_id}`, r.seq]));
      for (const [roomId, senderId, clientId, seq] of chunk) {
        const got = stored.get(`${roomId}\t${senderId}\t${clientId}`);
        if (got !== seq) {
          lost++;
          note(`acked ${roomId}/${clientId} as seq ${seq}, stored: ${got ?? "nothing"}`);
        }
      }
    }
    const rooms = Object.keys(lastSeqs);
    // Chat only: every bench message text is unique (other kinds have no text to compare).
    const twice = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM room_events WHERE room_id = ANY($1::text[]) AND kind = 'chat'
        GROUP BY room_id, body->>'text' HAVING count(*) > 1) d`,
      [rooms],
    );
    duplicated += twice.rows[0]!.n;
    if (twice.rows[0]!.n > 0) note(`${twice.rows[0]!.n} message texts stored more than once`);
    const count = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM room_events WHERE room_id = ANY($1::text[])", [rooms]);
    storedRows = count.rows[0]!.n;
    coaching = await auditCoaching(db, results.map((r) => r.coaching), rooms, note);
    lost += coaching.lost;
    duplicated += coaching.duplicated;
    const reports = results.flatMap((r) => r.coaching.reports);
    notices = await auditNotices(db, { users, reports, rooms, settleSeqs: lastSeqs }, noticeOptions, note);
    lost += notices.lost;
    duplicated += notices.duplicated;
  }

  let usersWithGaps = 0;
  let usersBehind = 0;
  for (const u of users) {
    const head = lastSeqs[u.roomId] ?? 0;
    if (u.gaps > 0) {
      usersWithGaps++;
      note(`${u.userId} saw ${u.gaps} gap(s) in ${u.roomId}`);
    }
    if (u.duplicates > 0) {
      duplicated += u.duplicates;
      note(`${u.userId} was delivered ${u.duplicates} event(s) twice in ${u.roomId}`);
    }
    const reached = u.last ?? u.joinedAt;
    if (reached < head) {
      usersBehind++;
      note(`${u.userId} reached seq ${reached} of ${head} in ${u.roomId}`);
    }
  }
  return {
    ok: lost === 0 && duplicated === 0 && usersWithGaps === 0 && usersBehind === 0 && (coaching?.mismatches ?? 0) === 0 && (notices?.mismatches ?? 0) === 0,
    ackedSends: acked.length,
    lost,
    duplicated,
    usersChecked: users.length,
    usersWithGaps,
    usersBehind,
    storedRows,
    coaching,
    notices,
    problems,
  };
}
