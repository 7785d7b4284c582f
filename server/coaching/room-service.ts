import { randomBytes, randomInt } from "node:crypto";
import type { Page, RoomSummary } from "../../protocol/coaching.ts";
import type { JoinCodeCreateRequest, PageQuery, RoomCreateRequest } from "../../protocol/coaching-schemas.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { MemberRole, RoomMember } from "../../protocol/events.ts";
import type { Db } from "../../db/db.ts";
import type { UserRole } from "../auth/auth-service.ts";
import { only, type LogTransaction, type RoomLogWriter } from "../log/log-transaction.ts";
import { UNLIMITED, type CreationQuota } from "../ratelimit/creation-quota.ts";
import { membershipOf, requireRoomCoach } from "./access.ts";
import { decodeCursor, pageOf } from "./cursor.ts";

/** Told after a room's members changed (so caches drop and a removed user's sockets leave). */
export type MembershipListener = (roomId: string, removedUserId: string | null) => void;

export interface RoomDetails {
  room: RoomSummary;
  members: RoomMember[];
}

export interface JoinCode {
  code: string;
  roomId: string;
  expiresAt: number;
  maxUses: number | null;
}

interface SummaryRow {
  id: string;
  name: string;
  kind: "group" | "direct";
  role: MemberRole;
  muted: boolean;
  last_seq: number;
  last_read_seq: number;
  e_seq: number | null;
  e_kind: string | null;
  e_sender: string | null;
  e_created_at: Date | null;
}

const SUMMARY_SELECT = `
  SELECT r.id, r.name, r.kind, m.role, m.muted, r.last_seq, m.last_read_seq,
         e.seq AS e_seq, e.kind AS e_kind, e.sender_id AS e_sender, e.created_at AS e_created_at
    FROM memberships m JOIN rooms r ON r.id = m.room_id
    LEFT JOIN room_events e ON e.room_id = r.id AND e.seq = r.last_seq`;

const CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; // no 0/O, 1/I: read aloud in class

/**
 * Rooms and their members: coaches create group or 1:1 rooms, invite students by id or join
 * code, remove or mute them, and delete chat messages (a tombstone stays in the log). Every
 * change is a room-log event written with it in one transaction.
 */
export class RoomService {
  constructor(
    private readonly db: Db,
    private readonly writer: RoomLogWriter,
    private readonly onMembership: MembershipListener,
    private readonly quota: Pick<CreationQuota, "charge"> = UNLIMITED,
  ) {}

  /** Coaches (and admins) create rooms; a 1:1 room asked for again is the same room. */
  async create(userId: string, userRole: UserRole, req: RoomCreateRequest): Promise<{ room: RoomSummary; created: boolean }> {
    if (userRole === "student") throw new CoachwireError("FORBIDDEN", "Only coaches create rooms");
    if (req.kind === "direct") {
      const existing = await this.directRoom(userId, req.studentId!);
      if (existing) return { room: await this.summary(userId, existing), created: false };
      await this.requireStudent(req.studentId!);
    }
    await this.quota.charge("room", userId);
    const id = `r_${randomBytes(9).toString("base64url")}`;
    try {
      await this.insertRoom(id, userId, req);
    } catch (err) {
      // Two requests for the same 1:1 room at once: the unique index let one in; answer with it.
      const raced = req.kind === "direct" && (err as { code?: string }).code === "23505" ? await this.directRoom(userId, req.studentId!) : undefined;
      if (!raced) throw err;
      return { room: await this.summary(userId, raced), created: false };
    }
    return { room: await this.summary(userId, id), created: true };
  }

  private async directRoom(coachId: string, studentId: string): Promise<string | undefined> {
    const res = await this.db.query<{ id: string }>("SELECT id FROM rooms WHERE kind = 'direct' AND created_by = $1 AND direct_student_id = $2", [
      coachId,
      studentId,
    ]);
    return res.rows[0]?.id;
  }

  private async insertRoom(id: string, userId: string, req: RoomCreateRequest): Promise<void> {
    await this.writer.write(id, async (log) => {
      await log.tx.query("INSERT INTO rooms (id, name, kind, created_by, direct_student_id) VALUES ($1, $2, $3, $4, $5)", [
        id,
        req.name,
        req.kind,
        userId,
        req.studentId ?? null,
      ]);
      await this.addMembership(log, id, userId, "coach", "create");
      if (req.studentId) await this.addMembership(log, id, req.studentId, "student", "create");
    });
  }

  /** The caller's rooms with unread counts and the last event, in room id order. */
  async list(userId: string, page: PageQuery): Promise<Page<RoomSummary>> {
    const after = decodeCursor(page.cursor, ["string"]);
    const res = await this.db.query<SummaryRow>(`${SUMMARY_SELECT} WHERE m.user_id = $1 AND r.id > $2 ORDER BY r.id LIMIT $3`, [
      userId,
      after?.[0] ?? "",
      page.limit + 1,
    ]);
    return pageOf(res.rows, page.limit, summaryView, (r) => [r.id]);
  }

  /** One room of the caller's, with its members. */
  async get(userId: string, roomId: string): Promise<RoomDetails> {
    const room = await this.summary(userId, roomId);
    const members = await this.db.query<{ user_id: string; display_name: string; role: MemberRole; muted: boolean }>(
      `SELECT m.user_id, u.display_name, m.role, m.muted FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.room_id = $1 ORDER BY m.joined_at, m.user_id`,
      [roomId],
    );
    return { room, members: members.rows.map((m) => ({ userId: m.user_id, displayName: m.display_name, role: m.role, muted: m.muted })) };
  }

  /** The room's coach adds a student (or a fellow coach) by id; adding a member again changes nothing. */
  async addMember(userId: string, roomId: string, memberId: string): Promise<RoomDetails> {
    const added = await this.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      await requireRoomCoach(log.tx, roomId, userId);
      const user = await log.tx.query<{ role: UserRole }>("SELECT role FROM users WHERE id = $1", [memberId]);
      if (!user.rows[0]) throw new CoachwireError("NOT_FOUND", `No user ${memberId}`);
      return this.addMembership(log, roomId, memberId, user.rows[0].role === "student" ? "student" : "coach", "invite");
    });
    if (added) this.onMembership(roomId, null);
    return this.get(userId, roomId);
  }

  /** The room's coach removes a student: their unfinished assignments in the room go with them. */
  async removeMember(userId: string, roomId: string, memberId: string): Promise<void> {
    await this.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      await requireRoomCoach(log.tx, roomId, userId);
      const target = await membershipOf(log.tx, roomId, memberId).catch(() => undefined);
      if (!target) throw new CoachwireError("NOT_FOUND", `${memberId} is not a member of this room`);
      if (target.role === "coach") throw new CoachwireError("FORBIDDEN", "A coach cannot be removed from the room");
      await log.tx.query("DELETE FROM memberships WHERE room_id = $1 AND user_id = $2", [roomId, memberId]);
      await log.tx.query(
        `DELETE FROM task_assignees a USING tasks t
          WHERE t.id = a.task_id AND t.room_id = $1 AND a.user_id = $2 AND t.status = 'open' AND a.state <> 'done'`,
        [roomId, memberId],
      );
      await log.append([{ roomId, clientId: null, kind: "member.removed", senderId: userId, body: { userId: memberId } }]);
    });
    this.onMembership(roomId, memberId);
  }

  /** The room's coach mutes or unmutes a student (muted: no chat; reading and progress still work). */
  async setMuted(userId: string, roomId: string, memberId: string, muted: boolean): Promise<void> {
    const changed = await this.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      await requireRoomCoach(log.tx, roomId, userId);
      const target = await membershipOf(log.tx, roomId, memberId).catch(() => undefined);
      if (!target) throw new CoachwireError("NOT_FOUND", `${memberId} is not a member of this room`);
      if (target.role === "coach") throw new CoachwireError("FORBIDDEN", "A coach cannot be muted");
      if (target.muted === muted) return false;
      await log.tx.query("UPDATE memberships SET muted = $3 WHERE room_id = $1 AND user_id = $2", [roomId, memberId, muted]);
      await log.append([{ roomId, clientId: null, kind: "member.muted", senderId: userId, body: { userId: memberId, muted } }]);
      return true;
    });
    if (changed) this.onMembership(roomId, null);
  }

  /** The room's coach makes a code students can join with until it expires (or is used up). */
  async createJoinCode(userId: string, roomId: string, req: JoinCodeCreateRequest): Promise<JoinCode> {
    await requireRoomCoach(this.db, roomId, userId);
    await this.quota.charge("join-code", userId);
    const expiresAt = new Date(Date.now() + req.ttlSeconds * 1000);
    // 32^8 codes: a collision is rare, and a fresh code on the next try.
    for (let attempt = 0; ; attempt++) {
      const code = Array.from({ length: 8 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join("");
      const res = await this.db.query(
        "INSERT INTO join_codes (code, room_id, created_by, expires_at, max_uses) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING RETURNING code",
        [code, roomId, userId, expiresAt, req.maxUses ?? null],
      );
      if (res.rows.length > 0) return { code, roomId, expiresAt: expiresAt.getTime(), maxUses: req.maxUses ?? null };
      if (attempt >= 5) throw new CoachwireError("UNAVAILABLE", "Could not make a unique join code; retry");
    }
  }

  /** A student joins with a code; joining a room they are already in changes nothing and uses nothing. */
  async redeemJoinCode(userId: string, userRole: UserRole, code: string): Promise<RoomDetails> {
    if (userRole !== "student") throw new CoachwireError("FORBIDDEN", "Join codes are for students");
    const found = await this.db.query<{ room_id: string }>("SELECT room_id FROM join_codes WHERE code = $1", [code]);
    const roomId = found.rows[0]?.room_id;
    if (!roomId) throw new CoachwireError("JOIN_CODE_INVALID");
    const added = await this.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      const row = await log.tx.query<{ expires_at: Date; max_uses: number | null; uses: number }>(
        "SELECT expires_at, max_uses, uses FROM join_codes WHERE code = $1",
        [code],
      );
      const c = row.rows[0];
      if (!c) throw new CoachwireError("JOIN_CODE_INVALID");
      const already = await log.tx.query("SELECT 1 FROM memberships WHERE room_id = $1 AND user_id = $2", [roomId, userId]);
      if (already.rows.length > 0) return false;
      if (c.expires_at.getTime() <= Date.now()) throw new CoachwireError("JOIN_CODE_EXPIRED");
      if (c.max_uses !== null && c.uses >= c.max_uses) throw new CoachwireError("JOIN_CODE_EXPIRED", "The join code has been used up");
      await log.tx.query("UPDATE join_codes SET uses = uses + 1 WHERE code = $1", [code]);
      return this.addMembership(log, roomId, userId, "student", "code");
    });
    if (added) this.onMembership(roomId, null);
    return this.get(userId, roomId);
  }

  /** The room's coach deletes a chat message: its body is gone from history and a chat.deleted tombstone is logged. */
  async deleteMessage(userId: string, roomId: string, seq: number): Promise<{ seq: number }> {
    return this.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      await requireRoomCoach(log.tx, roomId, userId);
      const clientId = `chat.delete:${seq}`;
      const earlier = await log.findByClientId(roomId, clientId);
      if (earlier) return { seq: earlier.seq };
      const target = await log.tx.query<{ kind: string }>("SELECT kind FROM room_events WHERE room_id = $1 AND seq = $2", [roomId, seq]);
      if (target.rows[0]?.kind !== "chat") throw new CoachwireError("NOT_FOUND", `No chat message at seq ${seq}`);
      await log.tx.query(`UPDATE room_events SET body = '{"deleted": true}'::jsonb WHERE room_id = $1 AND seq = $2`, [roomId, seq]);
      const { event } = only(await log.append([{ roomId, clientId, kind: "chat.deleted", senderId: userId, body: { seq } }]));
      return { seq: event.seq };
    });
  }

  /** Inserts a membership and logs member.added; whole-room open tasks are assigned to a new student. False if already a member. */
  private async addMembership(log: LogTransaction, roomId: string, userId: string, role: MemberRole, via: "create" | "invite" | "code"): Promise<boolean> {
    const inserted = await log.tx.query<{ display_name: string }>(
      `INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
       RETURNING (SELECT display_name FROM users WHERE id = $2)`,
      [roomId, userId, role],
    );
    if (inserted.rows.length === 0) return false;
    if (role === "student") {
      await log.tx.query(
        `INSERT INTO task_assignees (task_id, user_id)
         SELECT id, $2 FROM tasks WHERE room_id = $1 AND assign_all AND status = 'open' ON CONFLICT DO NOTHING`,
        [roomId, userId],
      );
    }
    const displayName = inserted.rows[0]!.display_name;
    await log.append([{ roomId, clientId: null, kind: "member.added", senderId: null, body: { userId, displayName, role, via } }]);
    return true;
  }

  private async requireStudent(userId: string): Promise<void> {
    const user = await this.db.query<{ role: UserRole }>("SELECT role FROM users WHERE id = $1", [userId]);
    if (user.rows[0]?.role !== "student") throw new CoachwireError("VALIDATION_FAILED", `studentId: ${userId} is not a student`);
  }

  private async summary(userId: string, roomId: string): Promise<RoomSummary> {
    await membershipOf(this.db, roomId, userId);
    const res = await this.db.query<SummaryRow>(`${SUMMARY_SELECT} WHERE m.user_id = $1 AND r.id = $2`, [userId, roomId]);
    return summaryView(res.rows[0]!);
  }
}

function summaryView(r: SummaryRow): RoomSummary {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    role: r.role,
    lastSeq: r.last_seq,
    lastReadSeq: r.last_read_seq,
    unread: Math.max(0, r.last_seq - r.last_read_seq),
    muted: r.muted,
    lastEvent: r.e_seq === null ? null : { seq: r.e_seq, kind: r.e_kind!, senderId: r.e_sender, createdAt: r.e_created_at!.getTime() },
  };
}
