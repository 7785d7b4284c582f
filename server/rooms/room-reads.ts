import { CoachwireError } from "../../protocol/errors.ts";
import type { MemberRole } from "../../protocol/events.ts";
import type { Db } from "../../db/db.ts";
import type { ReadMarks } from "../coaching/read-marks.ts";
import type { Config } from "../config.ts";
import { rowToEvent } from "../log/append.ts";
import { forViewer } from "../log/audience.ts";
import { historyPage, type HistoryQuery, type LogPage } from "../log/history.ts";
import { JoinReads, type JoinReadOptions } from "./join-reads.ts";
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
  /** A join's head and backlog, batched across every socket joining at the same moment. */
  private readonly joins: JoinReads;

  constructor(
    private readonly ctx: { db: Db; rooms: RoomRegistry; readMarks: ReadMarks; limits: Config["rooms"]; batching: JoinReadOptions },
  ) {
    this.joins = new JoinReads(ctx.db, { backlogMax: ctx.limits.joinBacklogMax, recent: ctx.limits.joinRecent }, ctx.batching);
  }

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
    const row = await this.joins.head(roomId, userId);
    if (!row) throw new CoachwireError("ROOM_NOT_FOUND");
    if (row.role === null) throw new CoachwireError("NOT_A_MEMBER");
    if (since !== undefined && since > row.lastSeq) throw new CoachwireError("VALIDATION_FAILED", `since ${since} is beyond the room's last seq ${row.lastSeq}`);
    return { lastSeq: row.lastSeq, role: row.role, lastReadSeq: row.lastReadSeq };
  }

  /**
   * What a joining socket is handed: the recent events, or everything after `since` up to the
   * backlog cap — read once for every socket joining the room from the same point at this moment.
   * Resolves to the page as a member of a given role may see it (the read starts before the
   * caller knows the role: it runs beside the head's).
   */
  async backlog(userId: string, roomId: string, since: number | undefined): Promise<(role: MemberRole) => LogPage> {
    const rows = await this.joins.backlog(roomId, since);
    const limit = since === undefined ? this.ctx.limits.joinRecent : this.ctx.limits.joinBacklogMax;
    const hasMore = rows.length > limit;
    // Ascending rows, one more than a page at most: the page is the first `limit` after `since`,
    // or the newest `limit` without it.
    const page = !hasMore ? rows : since === undefined ? rows.slice(rows.length - limit) : rows.slice(0, limit);
    return (role) => ({ events: page.map((row) => forViewer(rowToEvent(row), { userId, role })), hasMore });
  }
}
