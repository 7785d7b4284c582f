import { CoachwireError } from "../../protocol/errors.ts";
import type { Queryable } from "../../db/db.ts";

/** Rows per query while streaming the long sections (messages), so memory stays flat. */
const PAGE = 500;

const ms = (d: Date | null) => (d === null ? null : d.getTime());

/**
 * Everything coachwire holds about one user, as one JSON document written piece by piece
 * (GET /api/me/export): profile, settings, consents, sessions, memberships, the chat messages
 * they sent, their task progress, the notices sent to them, guardianships and parent digests.
 * The caller checks who may read it; this only asserts the user exists.
 */
export async function* exportUserData(db: Queryable, userId: string): AsyncGenerator<string> {
  const profile = await db.query<{
    id: string;
    email: string | null;
    display_name: string;
    role: string;
    created_at: Date;
    time_zone: string;
    quiet_start_min: number;
    quiet_end_min: number;
  }>("SELECT id, email, display_name, role, created_at, time_zone, quiet_start_min, quiet_end_min FROM users WHERE id = $1", [userId]);
  const u = profile.rows[0];
  if (!u) throw new CoachwireError("NOT_FOUND", "No such user");
  yield `{"exportedAt":${Date.now()},"profile":${JSON.stringify({ id: u.id, email: u.email, displayName: u.display_name, role: u.role, createdAt: u.created_at.getTime() })}`;
  yield `,"settings":${JSON.stringify({ timeZone: u.time_zone, quietHours: { startMin: u.quiet_start_min, endMin: u.quiet_end_min } })}`;

  yield* section(db, "consents", "SELECT terms_version, accepted_at, ip FROM consents WHERE user_id = $1 ORDER BY accepted_at", [userId], (r: { terms_version: string; accepted_at: Date; ip: string }) => ({
    version: r.terms_version,
    acceptedAt: r.accepted_at.getTime(),
    ip: r.ip,
  }));
  yield* section(
    db,
    "sessions",
    `SELECT f.family_id, f.user_agent, f.ip, f.created_at, f.last_used_at, f.revoked_at FROM session_families f WHERE f.user_id = $1 ORDER BY f.created_at`,
    [userId],
    (r: { family_id: string; user_agent: string; ip: string; created_at: Date; last_used_at: Date; revoked_at: Date | null }) => ({
      id: r.family_id,
      userAgent: r.user_agent,
      ip: r.ip,
      createdAt: r.created_at.getTime(),
      lastUsedAt: r.last_used_at.getTime(),
      revokedAt: ms(r.revoked_at),
    }),
  );
  yield* section(
    db,
    "memberships",
    `SELECT m.room_id, r.name, r.kind, m.role, m.muted, m.last_read_seq, m.joined_at FROM memberships m JOIN rooms r ON r.id = m.room_id
      WHERE m.user_id = $1 ORDER BY m.joined_at, m.room_id`,
    [userId],
    (r: { room_id: string; name: string; kind: string; role: string; muted: boolean; last_read_seq: number; joined_at: Date }) => ({
      roomId: r.room_id,
      roomName: r.name,
      kind: r.kind,
      role: r.role,
      muted: r.muted,
      lastReadSeq: Number(r.last_read_seq),
      joinedAt: r.joined_at.getTime(),
    }),
  );

  // Messages may be many: keyset pages over (room, seq).
  yield `,"messages":[`;
  let first = true;
  let after: [string, number] = ["", 0];
  for (;;) {
    const res = await db.query<{ room_id: string; seq: number; body: unknown; created_at: Date }>(
      `SELECT room_id, seq, body, created_at FROM room_events WHERE sender_id = $1 AND kind = 'chat' AND (room_id, seq) > ($2, $3)
        ORDER BY room_id, seq LIMIT $4`,
      [userId, after[0], after[1], PAGE],
    );
    for (const r of res.rows) {
      yield `${first ? "" : ","}${JSON.stringify({ roomId: r.room_id, seq: Number(r.seq), body: r.body, createdAt: r.created_at.getTime() })}`;
      first = false;
    }
    if (res.rows.length < PAGE) break;
    const last = res.rows[res.rows.length - 1]!;
    after = [last.room_id, Number(last.seq)];
  }
  yield "]";

  yield* section(
    db,
    "progress",
    `SELECT a.task_id, t.room_id, t.title, a.state, a.solved, a.correct, a.wrong, a.seen_at, a.started_at, a.done_at, a.updated_at
       FROM task_assignees a JOIN tasks t ON t.id = a.task_id WHERE a.user_id = $1 ORDER BY t.created_at, a.task_id`,
    [userId],
    (r: { task_id: string; room_id: string; title: string; state: string; solved: number; correct: number; wrong: number; seen_at: Date | null; started_at: Date | null; done_at: Date | null; updated_at: Date }) => ({
      taskId: r.task_id,
      roomId: r.room_id,
      title: r.title,
      state: r.state,
      solved: r.solved,
      correct: r.correct,
      wrong: r.wrong,
      seenAt: ms(r.seen_at),
      startedAt: ms(r.started_at),
      doneAt: ms(r.done_at),
      updatedAt: r.updated_at.getTime(),
    }),
  );
  yield* section(
    db,
    "notices",
    "SELECT id, kind, room_id, seq, body, created_at FROM notices WHERE user_id = $1 ORDER BY id",
    [userId],
    (r: { id: number; kind: string; room_id: string; seq: number; body: unknown; created_at: Date }) => ({
      id: Number(r.id),
      kind: r.kind,
      roomId: r.room_id,
      seq: Number(r.seq),
      body: r.body,
      createdAt: r.created_at.getTime(),
    }),
  );
  yield* section(
    db,
    "guardianships",
    `SELECT g.parent_id, g.student_id FROM guardianships g WHERE g.parent_id = $1 OR g.student_id = $1 ORDER BY g.parent_id, g.student_id`,
    [userId],
    (r: { parent_id: string; student_id: string }) => ({ parentId: r.parent_id, studentId: r.student_id }),
  );
  yield* section(
    db,
    "parentDigests",
    "SELECT week, body, created_at FROM parent_digests WHERE parent_id = $1 ORDER BY week",
    [userId],
    (r: { week: string; body: unknown; created_at: Date }) => ({ week: r.week, body: r.body, createdAt: r.created_at.getTime() }),
  );
  yield "}";
}

/** `,"name":[…]` from one query (sections that stay small: a user's consents, rooms, tasks). */
async function* section<R>(db: Queryable, name: string, sql: string, params: unknown[], view: (row: R) => unknown): AsyncGenerator<string> {
  const res = await db.query<R & object>(sql, params);
  yield `,${JSON.stringify(name)}:[`;
  for (const [i, row] of res.rows.entries()) yield `${i === 0 ? "" : ","}${JSON.stringify(view(row))}`;
  yield "]";
}
