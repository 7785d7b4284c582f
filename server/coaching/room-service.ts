import { roomMembers } from "../rooms/room-members.ts";
import { randomBytes, randomInt } from "node:crypto";
import type { Page, RoomSummary } from "../../protocol/coaching.ts";
import type { JoinCodeCreateRequest, PageQuery, RoomCreateRequest, RoomUpdateRequest } from "../../protocol/coaching-schemas.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { MemberRole, RoomMember } from "../../protocol/events.ts";
import type { Db, Queryable } from "../../db/db.ts";
import { AuditLog, type AuditEntry } from "../accounts/audit-log.ts";
import { allows, requirePermission, type UserRole } from "../accounts/roles.ts";
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
  share_progress: boolean;
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
  SELECT r.id, r.name, r.kind, r.share_progress, m.role, m.muted, r.last_seq, m.last_read_seq,
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
    // Safeguarding: only a coach or an admin starts a room, and so a 1:1 room with a student;
    // students never open direct rooms (with each other or anyone).
    if (userRole === "student" && req.kind === "direct") throw new CoachwireError("FORBIDDEN", "Students cannot open direct rooms; a coach or admin starts one");
    requirePermission(userRole, "room.create");
    if (req.kind === "direct") {
      const existing = await this.directRoom(userId, req.studentId!);
      if (existing) return { room: await this.summary(userId, existing), created: false };
      await this.requireStudent(userId, req.studentId!);
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
      // The room belongs to its creator's institution.
      await log.tx.query("INSERT INTO rooms (id, name, kind, created_by, direct_student_id, institution_id) VALUES ($1, $2, $3, $4, $5, (SELECT institution_id FROM users WHERE id = $4))", [
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
    return { room, members: await roomMembers(this.db, roomId) };
  }

  /**
   * The room's coach adds a student (or a fellow coach) by id; adding a member again changes
   * nothing. A 1:1 room takes no one but its coach and its student (ROOM_FULL).
   */
  async addMember(userId: string, roomId: string, memberId: string): Promise<RoomDetails> {
    await this.writer.write(
      roomId,
      async (log) => {
        await log.lockRoom(roomId);
        await requireRoomCoach(log.tx, roomId, userId);
        // Someone of another institution is "no user", exactly like an id nobody has.
        const user = await log.tx.query<{ role: UserRole }>(
          "SELECT role FROM users WHERE id = $1 AND institution_id = (SELECT institution_id FROM rooms WHERE id = $2)",
          [memberId, roomId],
        );
        if (!user.rows[0]) throw new CoachwireError("NOT_FOUND", `No user ${memberId}`);
        if (!allows(user.rows[0].role, "room.member")) throw new CoachwireError("VALIDATION_FAILED", `userId: ${memberId} is a parent; parents are not room members`);
        refuseThirdMember(await roomRules(log.tx, roomId), memberId);
        return this.addMembership(log, roomId, memberId, user.rows[0].role === "student" ? "student" : "coach", "invite");
      },
      (added) => added && this.onMembership(roomId, null),
    );
    return this.get(userId, roomId);
  }

  /**
   * The room's coach removes a student: their unfinished assignments in the room go with them.
   * A coach is removed by the room's creator, or steps down themself; the creator stays, so the
   * room always keeps a coach (see {@link checkCoachRemoval}).
   */
  async removeMember(userId: string, roomId: string, memberId: string, ip: string | null = null): Promise<void> {
    await this.writer.write(
      roomId,
      async (log) => {
        await log.lockRoom(roomId);
        await requireRoomCoach(log.tx, roomId, userId);
        const target = await membershipOf(log.tx, roomId, memberId).catch(() => undefined);
        if (!target) throw new CoachwireError("NOT_FOUND", `${memberId} is not a member of this room`);
        if (target.role === "coach") await checkCoachRemoval(log, roomId, userId, memberId);
        await this.deleteMembership(log, roomId, userId, memberId);
        await audit(log.tx, roomId, { actorId: userId, action: "member.remove", targetType: "user", targetId: memberId, ip, details: { roomId } });
      },
      () => this.onMembership(roomId, memberId),
    );
  }

  /** Deletes the membership and the member's unfinished assignments of open tasks, and logs member.removed. */
  private async deleteMembership(log: LogTransaction, roomId: string, userId: string, memberId: string): Promise<void> {
    await log.tx.query("DELETE FROM memberships WHERE room_id = $1 AND user_id = $2", [roomId, memberId]);
    await log.tx.query(
      `DELETE FROM task_assignees a USING tasks t
        WHERE t.id = a.task_id AND t.room_id = $1 AND a.user_id = $2 AND t.status = 'open' AND a.state <> 'done'`,
      [roomId, memberId],
    );
    await log.append([{ roomId, clientId: null, kind: "member.removed", senderId: userId, body: { userId: memberId } }]);
  }

  /** The room's coach mutes or unmutes a student (muted: no chat; reading and progress still work). */
  async setMuted(userId: string, roomId: string, memberId: string, muted: boolean, ip: string | null = null): Promise<void> {
    await this.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      await requireRoomCoach(log.tx, roomId, userId);
      const target = await membershipOf(log.tx, roomId, memberId).catch(() => undefined);
      if (!target) throw new CoachwireError("NOT_FOUND", `${memberId} is not a member of this room`);
      if (target.role === "coach") throw new CoachwireError("FORBIDDEN", "A coach cannot be muted");
      if (target.muted === muted) return false;
      await log.tx.query("UPDATE memberships SET muted = $3 WHERE room_id = $1 AND user_id = $2", [roomId, memberId, muted]);
      await log.append([{ roomId, clientId: null, kind: "member.muted", senderId: userId, body: { userId: memberId, muted } }]);
      await audit(log.tx, roomId, { actorId: userId, action: muted ? "member.mute" : "member.unmute", targetType: "user", targetId: memberId, ip, details: { roomId } });
      return true;
    }, (changed) => changed && this.onMembership(roomId, null));
  }

  /**
   * The room's coach changes the room's settings. `shareProgress`: whether classmates see each
   * other's task.progress in full (off by default: redacted; see server/log/audience.ts). It
   * applies to progress reported from then on; a change is logged as room.updated.
   */
  async updateSettings(userId: string, roomId: string, req: RoomUpdateRequest): Promise<RoomDetails> {
    await this.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      await requireRoomCoach(log.tx, roomId, userId);
      const res = await log.tx.query<{ share_progress: boolean }>("SELECT share_progress FROM rooms WHERE id = $1", [roomId]);
      if (res.rows[0]!.share_progress === req.shareProgress) return;
      await log.tx.query("UPDATE rooms SET share_progress = $2 WHERE id = $1", [roomId, req.shareProgress]);
      await log.append([{ roomId, clientId: null, kind: "room.updated", senderId: userId, body: { shareProgress: req.shareProgress } }]);
    });
    return this.get(userId, roomId);
  }

  /** The room's coach makes a code students can join with until it expires (or is used up). */
  async createJoinCode(userId: string, roomId: string, req: JoinCodeCreateRequest): Promise<JoinCode> {
    await requireRoomCoach(this.db, roomId, userId);
    if ((await roomRules(this.db, roomId)).kind === "direct") throw new CoachwireError("ROOM_FULL", "A 1:1 room has no join codes");
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
    requirePermission(userRole, "joinCode.redeem");
    // A code of another institution's room is no code at all.
    const found = await this.db.query<{ room_id: string }>(
      `SELECT j.room_id FROM join_codes j JOIN rooms r ON r.id = j.room_id JOIN users u ON u.id = $2 AND u.institution_id = r.institution_id
        WHERE j.code = $1`,
      [code, userId],
    );
    const roomId = found.rows[0]?.room_id;
    if (!roomId) throw new CoachwireError("JOIN_CODE_INVALID");
    await this.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      const already = await log.tx.query("SELECT 1 FROM memberships WHERE room_id = $1 AND user_id = $2", [roomId, userId]);
      if (already.rows.length > 0) return false;
      refuseThirdMember(await roomRules(log.tx, roomId), userId);
      await claimCode(log.tx, code);
      return this.addMembership(log, roomId, userId, "student", "code");
    }, (added) => added && this.onMembership(roomId, null));
    return this.get(userId, roomId);
  }

  /**
   * Self sign-up: `createUser` makes the new student's account inside the transaction that adds
   * them to the code's room, so a refused code (expired, used up) leaves no account behind. The
   * room's institution becomes the account's.
   */
  async joinAsNewStudent(code: string, createUser: (tx: Queryable, institutionId: string) => Promise<string>): Promise<{ userId: string; roomId: string }> {
    const found = await this.db.query<{ room_id: string }>("SELECT room_id FROM join_codes WHERE code = $1", [code]);
    const roomId = found.rows[0]?.room_id;
    if (!roomId) throw new CoachwireError("JOIN_CODE_INVALID");
    const userId = await this.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      // A new account is never a 1:1 room's own student.
      if ((await roomRules(log.tx, roomId)).kind === "direct") throw new CoachwireError("ROOM_FULL", "A 1:1 room has one coach and one student");
      const institutionId = await claimCode(log.tx, code);
      const id = await createUser(log.tx, institutionId);
      await this.addMembership(log, roomId, id, "student", "code");
      return id;
    });
    this.onMembership(roomId, null);
    return { userId, roomId };
  }

  /** The room's coach deletes a chat message: its body is gone from history and a chat.deleted tombstone is logged. */
  async deleteMessage(userId: string, roomId: string, seq: number, ip: string | null = null): Promise<{ seq: number }> {
    return this.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      await requireRoomCoach(log.tx, roomId, userId);
      const clientId = `chat.delete:${seq}`;
      const earlier = await log.findInRoom(roomId, clientId);
      if (earlier) return { seq: earlier.seq };
      const target = await log.tx.query<{ kind: string }>("SELECT kind FROM room_events WHERE room_id = $1 AND seq = $2", [roomId, seq]);
      if (target.rows[0]?.kind !== "chat") throw new CoachwireError("NOT_FOUND", `No chat message at seq ${seq}`);
      await log.tx.query(`UPDATE room_events SET body = '{"deleted": true}'::jsonb WHERE room_id = $1 AND seq = $2`, [roomId, seq]);
      const { event } = only(await log.append([{ roomId, clientId, kind: "chat.deleted", senderId: userId, body: { seq } }]));
      await audit(log.tx, roomId, { actorId: userId, action: "message.delete", targetType: "message", targetId: `${roomId}:${seq}`, ip, details: { roomId, seq } });
      return { seq: event.seq };
    });
  }

  /**
   * A CSV import's room changes, all in one transaction with `fn` (which writes the accounts):
   * `join` adds a member to a listed room, `direct` opens a coach's 1:1 room with a student
   * (or finds the one they have). Members' caches drop after the commit.
   */
  async importAcross<T>(
    roomIds: readonly string[],
    fn: (ops: { tx: Queryable; join(roomId: string, userId: string, role: MemberRole): Promise<void>; direct(coachId: string, studentId: string, name: string): Promise<void> }) => Promise<T>,
  ): Promise<T> {
    const touched = new Set<string>();
    const result = await this.writer.writeAcross(roomIds, (log) =>
      fn({
        tx: log.tx,
        join: async (roomId, userId, role) => {
          if (await this.addMembership(log, roomId, userId, role, "invite")) touched.add(roomId);
        },
        direct: async (coachId, studentId, name) => {
          const found = await log.tx.query("SELECT 1 FROM rooms WHERE kind = 'direct' AND created_by = $1 AND direct_student_id = $2", [coachId, studentId]);
          if (found.rows.length > 0) return;
          const id = `r_${randomBytes(9).toString("base64url")}`;
          await log.tx.query(
            "INSERT INTO rooms (id, name, kind, created_by, direct_student_id, institution_id) VALUES ($1, $2, 'direct', $3, $4, (SELECT institution_id FROM users WHERE id = $3))",
            [id, name, coachId, studentId],
          );
          await this.addMembership(log, id, coachId, "coach", "create");
          await this.addMembership(log, id, studentId, "student", "create");
        },
      }),
    );
    for (const roomId of touched) this.onMembership(roomId, null);
    return result;
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

  /** The 1:1 room's student must be an active student of the creator's institution; anyone else answers like an unknown id. */
  private async requireStudent(creatorId: string, userId: string): Promise<void> {
    const user = await this.db.query<{ role: UserRole; status: string }>(
      "SELECT u.role, u.status FROM users u JOIN users c ON c.id = $2 AND c.institution_id = u.institution_id WHERE u.id = $1",
      [userId, creatorId],
    );
    if (user.rows[0]?.role !== "student" || user.rows[0].status === "deleted") throw new CoachwireError("VALIDATION_FAILED", `studentId: ${userId} is not a student`);
  }

  private async summary(userId: string, roomId: string): Promise<RoomSummary> {
    await membershipOf(this.db, roomId, userId);
    const res = await this.db.query<SummaryRow>(`${SUMMARY_SELECT} WHERE m.user_id = $1 AND r.id = $2`, [userId, roomId]);
    return summaryView(res.rows[0]!);
  }
}

/** Uses a join code once (the room is locked): expired or used up is refused. Returns the room's institution. */
async function claimCode(tx: Queryable, code: string): Promise<string> {
  const row = await tx.query<{ expires_at: Date; max_uses: number | null; uses: number; institution_id: string }>(
    "SELECT j.expires_at, j.max_uses, j.uses, r.institution_id FROM join_codes j JOIN rooms r ON r.id = j.room_id WHERE j.code = $1",
    [code],
  );
  const c = row.rows[0];
  if (!c) throw new CoachwireError("JOIN_CODE_INVALID");
  if (c.expires_at.getTime() <= Date.now()) throw new CoachwireError("JOIN_CODE_EXPIRED");
  if (c.max_uses !== null && c.uses >= c.max_uses) throw new CoachwireError("JOIN_CODE_EXPIRED", "The join code has been used up");
  await tx.query("UPDATE join_codes SET uses = uses + 1 WHERE code = $1", [code]);
  return c.institution_id;
}

/** A moderation action's audit row, in the room's institution, in the transaction of the action. */
async function audit(tx: Queryable, roomId: string, entry: Omit<AuditEntry, "institutionId">): Promise<void> {
  const room = await tx.query<{ institution_id: string }>("SELECT institution_id FROM rooms WHERE id = $1", [roomId]);
  await AuditLog.record(tx, { ...entry, institutionId: room.rows[0]!.institution_id });
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
    shareProgress: r.share_progress,
    lastEvent: r.e_seq === null ? null : { seq: r.e_seq, kind: r.e_kind!, senderId: r.e_sender, createdAt: r.e_created_at!.getTime() },
  };
}

interface RoomRules {
  kind: "group" | "direct";
  createdBy: string | null;
  directStudentId: string | null;
}

async function roomRules(q: Queryable, roomId: string): Promise<RoomRules> {
  const res = await q.query<{ kind: "group" | "direct"; created_by: string | null; direct_student_id: string | null }>(
    "SELECT kind, created_by, direct_student_id FROM rooms WHERE id = $1",
    [roomId],
  );
  const row = res.rows[0];
  if (!row) throw new CoachwireError("ROOM_NOT_FOUND");
  return { kind: row.kind, createdBy: row.created_by, directStudentId: row.direct_student_id };
}

/** A 1:1 room is its coach and its student: anyone else is ROOM_FULL (by id or by join code). */
function refuseThirdMember(room: RoomRules, userId: string): void {
  if (room.kind === "direct" && userId !== room.createdBy && userId !== room.directStudentId) {
    throw new CoachwireError("ROOM_FULL", "A 1:1 room has one coach and one student; make a group room for more");
  }
}

/**
 * Who may remove a coach: the room's creator removes any other coach, and a coach may step down
 * themself; nobody removes the creator, so the room always keeps a coach. A room whose creator
 * is not one of its coaches (none recorded, or gone) lets any of its coaches remove another, as
 * long as one coach remains.
 */
async function checkCoachRemoval(log: LogTransaction, roomId: string, userId: string, coachId: string): Promise<void> {
  const { createdBy } = await roomRules(log.tx, roomId);
  const coaches = await log.tx.query<{ user_id: string }>("SELECT user_id FROM memberships WHERE room_id = $1 AND role = 'coach'", [roomId]);
  const ids = coaches.rows.map((r) => r.user_id);
  const creatorCoaches = createdBy !== null && ids.includes(createdBy);
  if (creatorCoaches && coachId === createdBy) throw new CoachwireError("FORBIDDEN", "The room's creator cannot be removed from it");
  if (creatorCoaches && userId !== createdBy && userId !== coachId) {
    throw new CoachwireError("FORBIDDEN", "Only the room's creator can remove another coach");
  }
  if (ids.length <= 1) throw new CoachwireError("FORBIDDEN", "A room keeps at least one coach");
}
