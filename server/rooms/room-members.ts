import type { RoomMember } from "../../protocol/events.ts";
import type { Queryable } from "../../db/db.ts";

/** A room's members with their names, in the order they joined (the one query every member list is read with). */
export async function roomMembers(q: Queryable, roomId: string): Promise<RoomMember[]> {
  const res = await q.query<{ user_id: string; display_name: string; role: RoomMember["role"]; muted: boolean }>(
    `SELECT m.user_id, u.display_name, m.role, m.muted FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.room_id = $1 ORDER BY m.joined_at, m.user_id`,
    [roomId],
  );
  return res.rows.map((m) => ({ userId: m.user_id, displayName: m.display_name, role: m.role, muted: m.muted }));
}
