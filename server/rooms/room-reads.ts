import { CoachwireError } from "../../protocol/errors.ts";
import type { MemberRole } from "../../protocol/events.ts";
import type { Db } from "../../db/db.ts";
import type { ReadMarks } from "../coaching/read-marks.ts";
import type { Config } from "../config.ts";
import { historyPage, readAfter, readBefore, type HistoryQuery, type LogPage } from "../log/history.ts";
import type { RoomRegistry } from "./room-registry.ts";

/** Where a member's view of a room starts: the room's last seq, their role and their read mark, as committed. */
export interface RoomHead {
  lastSeq: number;
  role: MemberRole;
  lastReadSeq: number;
}

/**
 * What a member reads of a room and marks read — one method per operation, called the same way by
 * the socket events and the REST routes with the caller's id. Membership is checked by the
 * room's actor (its cached members, reloaded for a stranger and on every membership change),
 * the same check a chat send passes.
 */
export class RoomReads {
  constructor(
    private readonly ctx: { db: Db; rooms: RoomRegistry; readMarks: ReadMarks; limits: Config["rooms"] },
  ) {}

  /** A page of the room's log as the caller may see it (room:history, GET /api/rooms/:id/events). */
  async history(userId: string, roomId: string, q: HistoryQuery): Promise<LogPage> {
    const role = await this.ctx.rooms.get(roomId).authorize(userId);
    return historyPage(this.ctx.db.reader, roomId, q, { userId, role }, this.ctx.limits.historyLimitMax);
  }

  /** Moves the caller's read mark forward; answers the stored mark after its batch commits (msg:read, POST /api/rooms/:id/read). */
  async markRead(userId: string, roomId: string, seq: number): Promise<number> {
    await this.ctx.rooms.get(roomId).authorize(userId);
    return this.ctx.readMarks.mark(roomId, userId, seq);
  }

  /**
   * The head of a room as the database has it now, for a socket that has just subscribed to it
   * (room:join): a membership removed before this read is seen here, one removed after it sweeps
   * the subscribed socket. `since` past the last seq is refused.
   */
  async head(userId: string, roomId: string, since: number | undefined): Promise<RoomHead> {
    const res = await this.ctx.db.query<{ last_seq: number; role: MemberRole | null; last_read_seq: number | null }>(
      "SELECT r.last_seq, m.role, m.last_read_seq FROM rooms r LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = $2 WHERE r.id = $1",
      [roomId, userId],
    );
    const row = res.rows[0];
    if (!row) throw new CoachwireError("ROOM_NOT_FOUND");
    if (row.role === null) throw new CoachwireError("NOT_A_MEMBER");
    if (since !== undefined && since > row.last_seq) throw new CoachwireError("VALIDATION_FAILED", `since ${since} is beyond the room's last seq ${row.last_seq}`);
    return { lastSeq: row.last_seq, role: row.role, lastReadSeq: row.last_read_seq ?? 0 };
  }

  /** What a joining socket is handed: the recent events, or everything after `since` up to the backlog cap. */
  backlog(userId: string, role: MemberRole, roomId: string, since: number | undefined): Promise<LogPage> {
    const viewer = { userId, role };
    return since === undefined
      ? readBefore(this.ctx.db, roomId, undefined, this.ctx.limits.joinRecent, viewer)
      : readAfter(this.ctx.db, roomId, since, this.ctx.limits.joinBacklogMax, viewer);
  }
}
