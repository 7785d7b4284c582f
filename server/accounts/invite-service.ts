import type { Db, Queryable } from "../../db/db.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { AuthService, TokenPair } from "../auth/auth-service.ts";
import { hashPassword } from "../auth/passwords.ts";
import type { RoomService } from "../coaching/room-service.ts";
import type { Config } from "../config.ts";
import type { Mailer } from "../mail/mailer.ts";
import { Outbox } from "../mail/outbox.ts";
import { alreadyRegisteredMail, inviteMail, signupMail } from "../mail/templates.ts";
import { insertUser, institutionName, normalEmail, type UserRow } from "./account-store.ts";
import { AuditLog } from "./audit-log.ts";
import type { Actor, StaffOrStudentRole } from "./people-service.ts";
import { checkPassword } from "./password-policy.ts";
import { hashSecretToken, newSecretToken } from "./secret-tokens.ts";
import { linkGuardian } from "../parents/guardianships.ts";
import { requirePermission, type UserRole } from "./roles.ts";

/** What an invite link shows before it is used (so a browser can say who is invited where). */
export interface InvitePreview {
  email: string;
  role: UserRole;
  displayName: string | null;
  institution: { id: string; name: string };
  /** "invite": choose a password; "signup": the password was chosen at sign-up, confirming is enough. */
  kind: "invite" | "signup";
  guardianOf: string | null;
  /** The child's display name for a guardian invite, so the page can say whose parent the invitee becomes. */
  guardianOfName: string | null;
  expiresAt: number;
}

/** A new invite, as the one who made it sees it (never its token: that goes by mail only). */
export interface InviteView {
  email: string;
  role: UserRole;
  expiresAt: number;
}

interface InviteRow {
  token_hash: string;
  institution_id: string;
  email: string;
  role: UserRole;
  display_name: string | null;
  guardian_of: string | null;
  join_code: string | null;
  password_hash: string | null;
  expires_at: Date;
}

/** The fields of a new invite row (guardian invites set `guardianOf`). */
export interface InviteDraft {
  institutionId: string;
  email: string;
  role: UserRole;
  displayName: string | null;
  createdBy: string | null;
  guardianOf?: string | null;
}

export interface InviteContext {
  db: Db;
  auth: AuthService;
  mailer: Mailer;
  rooms: RoomService;
  config: Config["accounts"];
}

/**
 * Invitations by email and self sign-up with a join code. Both answer the same whether or not
 * the address already has an account (the mailbox's owner is the only one told), tokens are
 * single use and expire (COACHWIRE_INVITE_TTL_S), and only their sha256 is stored.
 */
export class InviteService {
  constructor(private readonly ctx: InviteContext) {}

  /** An admin invites someone to the institution by email. */
  async invite(actor: Actor, req: { email: string; role: StaffOrStudentRole; displayName?: string | undefined }): Promise<InviteView> {
    requirePermission(actor.principal.role, "people.manage");
    const institutionId = actor.principal.institutionId;
    const { view, naturalKey } = await this.ctx.db.transaction(async (tx) => {
      const made = await this.queueInvite(tx, { institutionId, email: req.email, role: req.role, displayName: req.displayName ?? null, createdBy: actor.principal.userId });
      await AuditLog.record(tx, {
        institutionId,
        actorId: actor.principal.userId,
        action: "invite.create",
        targetType: "invite",
        targetId: made.view.email,
        ip: actor.ip,
        details: { role: req.role },
      });
      return made;
    });
    this.ctx.mailer.dispatch([naturalKey]);
    return view;
  }

  /**
   * Writes an invite row and queues its mail in `tx` (guardian invites use it too); call
   * `mailer.dispatch([naturalKey])` after the commit.
   */
  async queueInvite(tx: Queryable, draft: InviteDraft): Promise<{ view: InviteView; naturalKey: string; link: string }> {
    const { token, hash } = newSecretToken();
    const email = normalEmail(draft.email);
    const expiresAt = new Date(Date.now() + this.ctx.config.inviteTtlS * 1000);
    await tx.query(
      `INSERT INTO invites (token_hash, institution_id, email, role, display_name, created_by, guardian_of, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [hash, draft.institutionId, email, draft.role, draft.displayName, draft.createdBy, draft.guardianOf ?? null, expiresAt],
    );
    const link = `${this.ctx.config.publicUrl}/invite#token=${token}`;
    const mail = inviteMail({ link, institutionName: await institutionName(tx, draft.institutionId), role: draft.role, expiresAt });
    const naturalKey = `invite:${hash}`;
    await Outbox.queue(tx, { naturalKey, institutionId: draft.institutionId, to: email, ...mail });
    return { view: { email, role: draft.role, expiresAt: expiresAt.getTime() }, naturalKey, link };
  }

  /** What the link is for; a used, expired or unknown token is LINK_INVALID. */
  async preview(token: string): Promise<InvitePreview> {
    const row = await this.openInvite(this.ctx.db, token, false);
    return {
      email: row.email,
      role: row.role,
      displayName: row.display_name,
      institution: { id: row.institution_id, name: await institutionName(this.ctx.db, row.institution_id) },
      kind: row.join_code ? "signup" : "invite",
      guardianOf: row.guardian_of,
      guardianOfName: row.guardian_of ? await studentName(this.ctx.db, row.guardian_of, row.institution_id) : null,
      expiresAt: row.expires_at.getTime(),
    };
  }

  /**
   * Turns an invite into an account and signs it in. An invite needs a password (and may
   * override the display name); a sign-up confirmation has both already and lands in its room.
   * A refused password, or an email that got an account meanwhile, leaves the token unused.
   */
  async accept(token: string, req: { password?: string | undefined; displayName?: string | undefined }): Promise<TokenPair & { roomId: string | null }> {
    const peek = await this.openInvite(this.ctx.db, token, false);
    if (peek.join_code) {
      const { userId, roomId } = await this.ctx.rooms.joinAsNewStudent(peek.join_code, async (tx, institutionId) => {
        const row = await this.openInvite(tx, token, true);
        if (row.institution_id !== institutionId) throw new CoachwireError("LINK_INVALID");
        return this.createFromInvite(tx, row, row.password_hash!, row.display_name!);
      });
      return { ...(await this.ctx.auth.issue(userId)), roomId };
    }
    if (req.password === undefined) throw new CoachwireError("VALIDATION_FAILED", "password: required");
    const password = req.password;
    const displayName = req.displayName ?? peek.display_name;
    if (!displayName) throw new CoachwireError("VALIDATION_FAILED", "displayName: required (the invite does not name you)");
    checkPassword({ minLength: this.ctx.config.passwordMinLength }, password, { email: peek.email, displayName });
    const passwordHash = await hashPassword(password);
    const userId = await this.ctx.db.transaction(async (tx) => this.createFromInvite(tx, await this.openInvite(tx, token, true), passwordHash, displayName));
    return { ...(await this.ctx.auth.issue(userId)), roomId: null };
  }

  /**
   * Self sign-up with a room's join code. Always the same answer for a valid code and a strong
   * password: a mail goes to the address — a confirmation link for a new address, a note with a
   * reset link for one that has an account. The account is created (and joins the room) when
   * the link is confirmed; the code's uses are counted then.
   */
  async signup(req: { code: string; displayName: string; email: string; password: string }): Promise<{ email: string }> {
    const email = normalEmail(req.email);
    const code = await this.ctx.db.query<{ institution_id: string; room_name: string; expires_at: Date; max_uses: number | null; uses: number }>(
      `SELECT r.institution_id, r.name AS room_name, j.expires_at, j.max_uses, j.uses FROM join_codes j JOIN rooms r ON r.id = j.room_id WHERE j.code = $1`,
      [req.code],
    );
    const c = code.rows[0];
    if (!c) throw new CoachwireError("JOIN_CODE_INVALID");
    if (c.expires_at.getTime() <= Date.now() || (c.max_uses !== null && c.uses >= c.max_uses)) throw new CoachwireError("JOIN_CODE_EXPIRED");
    checkPassword({ minLength: this.ctx.config.passwordMinLength }, req.password, { email, displayName: req.displayName });
    const passwordHash = await hashPassword(req.password);
    const { token, hash } = newSecretToken();
    const expiresAt = new Date(Date.now() + this.ctx.config.inviteTtlS * 1000);
    const naturalKey = await this.ctx.db.transaction(async (tx) => {
      const existing = await tx.query<UserRow>("SELECT * FROM users WHERE email = $1", [email]);
      const user = existing.rows[0];
      if (user) {
        // The address has an account: tell its owner (with a reset link), create nothing else.
        await tx.query("INSERT INTO password_resets (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, 'reset', $3)", [
          hash,
          user.id,
          new Date(Date.now() + this.ctx.config.resetTtlS * 1000),
        ]);
        const link = `${this.ctx.config.publicUrl}/reset-password#token=${token}`;
        await Outbox.queue(tx, { naturalKey: `signup-exists:${hash}`, institutionId: user.institution_id, to: email, ...alreadyRegisteredMail({ link }) });
        return `signup-exists:${hash}`;
      }
      await tx.query(
        `INSERT INTO invites (token_hash, institution_id, email, role, display_name, join_code, password_hash, expires_at)
         VALUES ($1, $2, $3, 'student', $4, $5, $6, $7)`,
        [hash, c.institution_id, email, req.displayName, req.code, passwordHash, expiresAt],
      );
      const link = `${this.ctx.config.publicUrl}/invite#token=${token}`;
      await Outbox.queue(tx, { naturalKey: `signup:${hash}`, institutionId: c.institution_id, to: email, ...signupMail({ link, roomName: c.room_name, expiresAt }) });
      return `signup:${hash}`;
    });
    this.ctx.mailer.dispatch([naturalKey]);
    return { email };
  }

  /** An open invite by token (locked with `lock`): used, expired, forged or unknown is LINK_INVALID. */
  private async openInvite(q: Queryable, token: string, lock: boolean): Promise<InviteRow> {
    const res = await q.query<InviteRow>(
      `SELECT * FROM invites WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()${lock ? " FOR UPDATE" : ""}`,
      [hashSecretToken(token)],
    );
    if (!res.rows[0]) throw new CoachwireError("LINK_INVALID");
    return res.rows[0];
  }

  /** The account an invite makes (a guardian invite also links parent and child); the invite is used up. */
  private async createFromInvite(tx: Queryable, row: InviteRow, passwordHash: string, displayName: string): Promise<string> {
    const user = await insertUser(tx, { institutionId: row.institution_id, email: row.email, displayName, role: row.role, passwordHash });
    await tx.query("UPDATE invites SET used_at = now(), accepted_by = $2 WHERE token_hash = $1", [row.token_hash, user.id]);
    // Through the one guardianship path: at most two parents per student (GUARDIAN_LIMIT).
    if (row.guardian_of) await linkGuardian(tx, user.id, row.guardian_of);
    return user.id;
  }
}

/** A student's display name in an institution (null: gone meanwhile). */
async function studentName(db: Db, studentId: string, institutionId: string): Promise<string | null> {
  const res = await db.query<{ display_name: string }>("SELECT display_name FROM users WHERE id = $1 AND institution_id = $2 AND role = 'student'", [studentId, institutionId]);
  return res.rows[0]?.display_name ?? null;
}
