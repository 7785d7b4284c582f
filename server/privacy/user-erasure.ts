import { CoachwireError } from "../../protocol/errors.ts";
import type { Db, Queryable } from "../../db/db.ts";
import { AuditLog } from "../accounts/audit-log.ts";
import { requirePermission } from "../accounts/roles.ts";
import { AuthService, type Principal } from "../auth/auth-service.ts";
import type { MembershipListener } from "../coaching/room-service.ts";
import type { RoomLogWriter } from "../log/log-transaction.ts";

/** The name an erased account shows under, everywhere. */
export const DELETED_NAME = "Deleted user";

/** What an erasure did. */
export interface ErasureResult {
  userId: string;
  /** Chat messages whose bodies were tombstoned by this call. */
  messagesDeleted: number;
  /** Rooms the user was removed from by this call. */
  roomsLeft: number;
  /** The account had already been erased (this call only finished what was left, if anything). */
  alreadyDeleted: boolean;
}

export interface ErasureDeps {
  db: Db;
  writer: RoomLogWriter;
  auth: AuthService;
  onMembership: MembershipListener;
}

/**
 * An admin deletes (anonymises) a user of their institution: the row stays (room logs name its
 * id) but the name becomes "Deleted user", the email and password go, every session and refresh
 * token is revoked and their sockets close. Then, room by room under the room's lock, each of
 * their chat messages is tombstoned exactly as a coach's deletion does (the body becomes
 * `{deleted:true}` and a `chat.deleted` event is logged; seqs never move, so no gap), the name
 * in their `member.added` events is replaced, and they leave the room (`member.removed`).
 * Running it again finishes a sweep a crash interrupted and otherwise changes nothing.
 */
export class UserErasure {
  constructor(private readonly deps: ErasureDeps) {}

  async erase(admin: Principal, userId: string, ip: string): Promise<ErasureResult> {
    requirePermission(admin.role, "people.manage");
    if (userId === admin.userId) throw new CoachwireError("FORBIDDEN", "An admin cannot delete their own account");
    const { db } = this.deps;
    const alreadyDeleted = await db.transaction(async (tx) => {
      const found = await tx.query<{ status: string; email: string | null }>("SELECT status, email FROM users WHERE id = $1 AND institution_id = $2 FOR UPDATE", [
        userId,
        admin.institutionId,
      ]);
      const user = found.rows[0];
      if (!user) throw new CoachwireError("NOT_FOUND", "No such user");
      if (user.status === "deleted") return true;
      if (user.email !== null) await forgetAddress(tx, user.email);
      await tx.query(
        `UPDATE users SET display_name = $2, email = NULL, password_hash = NULL, status = 'deleted', deactivated_at = coalesce(deactivated_at, now())
          WHERE id = $1`,
        [userId, DELETED_NAME],
      );
      await AuthService.revokeRefreshTokens(tx, userId);
      await tx.query("DELETE FROM guardianships WHERE parent_id = $1 OR student_id = $1", [userId]);
      await tx.query("DELETE FROM invites WHERE guardian_of = $1 AND used_at IS NULL", [userId]);
      await tx.query("DELETE FROM password_resets WHERE user_id = $1", [userId]);
      await tx.query("DELETE FROM parent_digests WHERE parent_id = $1", [userId]);
      // Where they logged in from is personal data too; the consent records keep theirs (evidence).
      await tx.query("UPDATE session_families SET user_agent = '', ip = '', revoked_at = coalesce(revoked_at, now()) WHERE user_id = $1", [userId]);
      await AuditLog.record(tx, { institutionId: admin.institutionId, actorId: admin.userId, action: "user.delete", targetType: "user", targetId: userId, ip });
      return false;
    });
    // Every access token issued so far is refused from now on, and every socket closes, on every process.
    await this.deps.auth.cutSessions(userId, Date.now(), "token revoked");

    const rooms = await db.query<{ room_id: string }>(
      `SELECT room_id FROM memberships WHERE user_id = $1
       UNION SELECT DISTINCT room_id FROM room_events WHERE sender_id = $1 AND kind = 'chat' AND NOT (body ? 'deleted')
       ORDER BY room_id`,
      [userId],
    );
    let messagesDeleted = 0;
    let roomsLeft = 0;
    for (const { room_id: roomId } of rooms.rows) {
      const swept = await this.sweepRoom(admin.userId, roomId, userId);
      messagesDeleted += swept.messages;
      if (swept.left) {
        roomsLeft++;
        this.deps.onMembership(roomId, userId);
      }
    }
    return { userId, messagesDeleted, roomsLeft, alreadyDeleted };
  }

  /** One room, in one log transaction: tombstones, the anonymised member.added names, the removal. */
  private sweepRoom(adminId: string, roomId: string, userId: string): Promise<{ messages: number; left: boolean }> {
    return this.deps.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      const tombstoned = await log.tx.query<{ seq: number }>(
        `UPDATE room_events SET body = '{"deleted": true}'::jsonb
          WHERE room_id = $1 AND sender_id = $2 AND kind = 'chat' AND NOT (body ? 'deleted') RETURNING seq`,
        [roomId, userId],
      );
      await log.tx.query(
        `UPDATE room_events SET body = jsonb_set(body, '{displayName}', to_jsonb($3::text))
          WHERE room_id = $1 AND kind = 'member.added' AND body->>'userId' = $2`,
        [roomId, userId, DELETED_NAME],
      );
      const seqs = tombstoned.rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
      // The same clientId a coach's deletion uses, so a message deleted both ways is announced once.
      await log.append(seqs.map((seq) => ({ roomId, clientId: `chat.delete:${seq}`, kind: "chat.deleted" as const, senderId: adminId, body: { seq } })));
      const removed = await log.tx.query("DELETE FROM memberships WHERE room_id = $1 AND user_id = $2 RETURNING user_id", [roomId, userId]);
      if (removed.rows.length > 0) {
        await log.tx.query(
          `DELETE FROM task_assignees a USING tasks t
            WHERE t.id = a.task_id AND t.room_id = $1 AND a.user_id = $2 AND t.status = 'open' AND a.state <> 'done'`,
          [roomId, userId],
        );
        await log.append([{ roomId, clientId: null, kind: "member.removed", senderId: adminId, body: { userId } }]);
      }
      return { messages: seqs.length, left: removed.rows.length > 0 };
    });
  }
}

/**
 * The address leaves the outbox too: mail to it that was sent keeps only that it was sent, mail
 * still queued is not sent at all, and unused invites to it are withdrawn.
 */
async function forgetAddress(tx: Queryable, email: string): Promise<void> {
  await tx.query(
    `UPDATE outbox SET to_email = '(deleted)', subject = '(removed with the account)', body_text = '(removed with the account)', link = NULL,
            status = CASE WHEN status = 'queued' THEN 'failed' ELSE status END,
            last_error = CASE WHEN status = 'queued' THEN 'the recipient was deleted' ELSE last_error END
      WHERE to_email = $1`,
    [email],
  );
  await tx.query("DELETE FROM invites WHERE email = $1 AND used_at IS NULL", [email]);
}
