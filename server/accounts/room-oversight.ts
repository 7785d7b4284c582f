import { roomMembers } from "../rooms/room-members.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { RoomMember } from "../../protocol/events.ts";
import type { Page } from "../../protocol/coaching.ts";
import type { Db } from "../../db/db.ts";
import { decodeCursor, pageOf } from "../coaching/cursor.ts";
import type { Principal } from "../auth/auth-service.ts";
import { historyLimit, historyPage, type HistoryQuery, type LogPage } from "../log/history.ts";
import { AuditLog } from "./audit-log.ts";
import { requirePermission } from "./roles.ts";

/** A room as an admin overseeing it sees it. */
export interface OverseenRoom {
  id: string;
  name: string;
  kind: "group" | "direct";
  lastSeq: number;
  createdBy: string | null;
  createdAt: number;
}

/**
 * Safeguarding: an admin may read any room of their institution — its members and its whole
 * log, notices in full — without being a member, and every such read is one audit_log row
 * (`room.read`, with what was read). A room of another institution answers like a missing one.
 */
export class RoomOversight {
  constructor(
    private readonly db: Db,
    private readonly historyLimitMax: number,
  ) {}

  /** The institution's rooms in id order, with member counts (names only: reading one is {@link members} / {@link events}). */
  async list(admin: Principal, page: { limit: number; cursor?: string | undefined }): Promise<Page<OverseenRoom & { memberCount: number }>> {
    requirePermission(admin.role, "people.manage");
    const after = decodeCursor(page.cursor, ["string"]);
    const res = await this.db.query<RoomRow & { member_count: number }>(
      `SELECT r.id, r.name, r.kind, r.last_seq, r.created_by, r.created_at,
              (SELECT count(*)::int FROM memberships m WHERE m.room_id = r.id) AS member_count
         FROM rooms r WHERE r.institution_id = $1 AND r.id > $2 ORDER BY r.id LIMIT $3`,
      [admin.institutionId, after?.[0] ?? "", page.limit + 1],
    );
    return pageOf(res.rows, page.limit, (r) => ({ ...roomView(r), memberCount: r.member_count }), (r) => [r.id]);
  }

  async members(admin: Principal, roomId: string, ip: string): Promise<{ room: OverseenRoom; members: RoomMember[] }> {
    const room = await this.room(admin, roomId);
    const members = await roomMembers(this.db, roomId);
    await this.audit(admin, roomId, ip, { part: "members" });
    return { room, members };
  }

  async events(admin: Principal, roomId: string, q: HistoryQuery, ip: string): Promise<LogPage> {
    await this.room(admin, roomId);
    const limit = historyLimit(q.limit, this.historyLimitMax);
    // Read as the room's coaches read it: every event, notices unredacted.
    const page = await historyPage(this.db.reader, roomId, { ...q, limit }, { userId: admin.userId, role: "coach" }, this.historyLimitMax);
    await this.audit(admin, roomId, ip, {
      part: "events",
      ...(q.before !== undefined ? { before: q.before } : {}),
      ...(q.after !== undefined ? { after: q.after } : {}),
      limit,
      seqs: page.events.length > 0 ? [page.events[0]!.seq, page.events[page.events.length - 1]!.seq] : [],
    });
    return page;
  }

  private async room(admin: Principal, roomId: string): Promise<OverseenRoom> {
    requirePermission(admin.role, "people.manage");
    const res = await this.db.query<RoomRow>("SELECT id, name, kind, last_seq, created_by, created_at FROM rooms WHERE id = $1 AND institution_id = $2", [
      roomId,
      admin.institutionId,
    ]);
    if (!res.rows[0]) throw new CoachwireError("ROOM_NOT_FOUND");
    return roomView(res.rows[0]);
  }

  private audit(admin: Principal, roomId: string, ip: string, details: Record<string, unknown>): Promise<void> {
    return AuditLog.record(this.db, { institutionId: admin.institutionId, actorId: admin.userId, action: "room.read", targetType: "room", targetId: roomId, ip, details });
  }
}

interface RoomRow {
  id: string;
  name: string;
  kind: "group" | "direct";
  last_seq: number;
  created_by: string | null;
  created_at: Date;
}

function roomView(r: RoomRow): OverseenRoom {
  return { id: r.id, name: r.name, kind: r.kind, lastSeq: Number(r.last_seq), createdBy: r.created_by, createdAt: r.created_at.getTime() };
}
