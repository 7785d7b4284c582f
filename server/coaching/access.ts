import { CoachwireError } from "../../protocol/errors.ts";
import type { MemberRole } from "../../protocol/events.ts";
import type { Queryable } from "../../db/db.ts";

export interface Membership {
  role: MemberRole;
  muted: boolean;
}

/**
 * The caller's membership of a room, read from the database (coaching changes check the
 * current truth, not a cache). Unknown room: ROOM_NOT_FOUND; not in it: NOT_A_MEMBER.
 */
export async function membershipOf(q: Queryable, roomId: string, userId: string): Promise<Membership> {
  const res = await q.query<{ role: MemberRole | null; muted: boolean | null }>(
    `SELECT m.role, m.muted FROM rooms r LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = $2
      WHERE r.id = $1`,
    [roomId, userId],
  );
  const row = res.rows[0];
  if (!row) throw new CoachwireError("ROOM_NOT_FOUND");
  if (!row.role) throw new CoachwireError("NOT_A_MEMBER");
  return { role: row.role, muted: row.muted ?? false };
}

/** The caller must coach this room (be a member with the coach role). */
export async function requireRoomCoach(q: Queryable, roomId: string, userId: string): Promise<void> {
  const m = await membershipOf(q, roomId, userId);
  if (m.role !== "coach") throw new CoachwireError("FORBIDDEN", "Only the room's coach can do this");
}
