import { CoachwireError, type ErrorCode } from "../../protocol/errors.ts";
import type { MemberRole } from "../../protocol/events.ts";
import type { Queryable } from "../../db/db.ts";

export interface Membership {
  role: MemberRole;
  muted: boolean;
}

/**
 * The caller's membership of a room, read from the database (coaching changes check the
 * current truth, not a cache). Unknown room, or a room of another institution than the
 * caller's: `missing` (ROOM_NOT_FOUND unless the caller named the room through something else,
 * e.g. a task: TASK_NOT_FOUND); not in it: NOT_A_MEMBER.
 */
export async function membershipOf(q: Queryable, roomId: string, userId: string, missing: ErrorCode = "ROOM_NOT_FOUND"): Promise<Membership> {
  const res = await q.query<{ role: MemberRole | null; muted: boolean | null }>(
    `SELECT m.role, m.muted FROM rooms r JOIN users u ON u.id = $2 AND u.institution_id = r.institution_id
       LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = $2
      WHERE r.id = $1`,
    [roomId, userId],
  );
  const row = res.rows[0];
  if (!row) throw new CoachwireError(missing);
  if (!row.role) throw new CoachwireError("NOT_A_MEMBER");
  return { role: row.role, muted: row.muted ?? false };
}

/** The caller must coach this room (be a member with the coach role). */
export async function requireRoomCoach(q: Queryable, roomId: string, userId: string, missing: ErrorCode = "ROOM_NOT_FOUND"): Promise<void> {
  const m = await membershipOf(q, roomId, userId, missing);
  if (m.role !== "coach") throw new CoachwireError("FORBIDDEN", "Only the room's coach can do this");
}

/** True when both users belong to the same institution (false when either does not exist). */
export async function sameInstitution(q: Queryable, userId: string, otherId: string): Promise<boolean> {
  const res = await q.query("SELECT 1 FROM users a JOIN users b ON b.institution_id = a.institution_id WHERE a.id = $1 AND b.id = $2", [userId, otherId]);
  return res.rows.length > 0;
}
