import { CoachwireError } from "../../protocol/errors.ts";
import type { GuardianInviteRequest, GuardianSignupRequest } from "../../protocol/family-schemas.ts";
import type { Db, Queryable } from "../../db/db.ts";
import { insertUser, normalEmail } from "../accounts/account-store.ts";
import { AuditLog } from "../accounts/audit-log.ts";
import type { InviteService } from "../accounts/invite-service.ts";
import { checkPassword, type PasswordRule } from "../accounts/password-policy.ts";
import { requirePermission } from "../accounts/roles.ts";
import { hashSecretToken } from "../accounts/secret-tokens.ts";
import type { AuthService, ClientInfo, Principal, TokenPair } from "../auth/auth-service.ts";
import { hashPassword } from "../auth/passwords.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { Consents } from "../privacy/consents.ts";
import { linkGuardian, MAX_GUARDIANS } from "./guardianships.ts";

/** A guardian invite as the inviter sees it (the token itself only travels in the mail). */
export interface GuardianInviteView {
  email: string;
  studentId: string;
  expiresAt: number;
}

/** What guardian invites need from the rest of the server. */
export interface GuardianInviteDeps {
  db: Db;
  auth: AuthService;
  /** Writes the invite row and queues its mail (the accounts invite service, shared by every invite). */
  invites: Pick<InviteService, "queueInvite">;
  mailer: Pick<Mailer, "dispatch">;
  consents: Consents;
  passwordRule: PasswordRule;
  /** Told after a parent was linked to a child (plans the parent's weekly digest). */
  onLinked(parentId: string): void;
}

interface InviteRow {
  token_hash: string;
  institution_id: string;
  email: string;
  role: string;
  guardian_of: string | null;
}

const NOT_A_STUDENT = () => new CoachwireError("NOT_FOUND", "No such student");

/**
 * Guardian (parent) invites: a coach of one of the student's rooms, or an admin of the
 * student's institution, invites a parent by email (an `invites` row with `guardian_of`, mailed
 * like every invite); the parent signs up with the emailed token (a new parent account linked
 * to the child, the terms accepted) or, already a parent, links the further child with it.
 * Tokens are single use and expire; a forged, used or expired one is LINK_INVALID. A student has
 * at most two parents (GUARDIAN_LIMIT), counted under the student's row lock.
 */
export class GuardianInvites {
  constructor(private readonly deps: GuardianInviteDeps) {}

  async create(inviter: Principal, studentId: string, req: GuardianInviteRequest, ip: string): Promise<GuardianInviteView> {
    requirePermission(inviter.role, "guardian.invite");
    const { db } = this.deps;
    const student = await db.query<{ role: string; status: string }>("SELECT role, status FROM users WHERE id = $1 AND institution_id = $2", [
      studentId,
      inviter.institutionId,
    ]);
    const s = student.rows[0];
    // Another institution's student, a non-student and an unknown id all answer alike.
    if (!s || s.role !== "student" || s.status === "deleted") throw NOT_A_STUDENT();
    if (inviter.role === "coach") {
      const coaches = await db.query(
        `SELECT 1 FROM memberships c JOIN memberships m ON m.room_id = c.room_id
          WHERE c.user_id = $1 AND c.role = 'coach' AND m.user_id = $2 AND m.role = 'student' LIMIT 1`,
        [inviter.userId, studentId],
      );
      if (coaches.rows.length === 0) throw new CoachwireError("FORBIDDEN", "Only a coach of one of the student's rooms (or an admin) invites their guardians");
    }
    const parents = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM guardianships WHERE student_id = $1", [studentId]);
    if (parents.rows[0]!.n >= MAX_GUARDIANS) throw new CoachwireError("GUARDIAN_LIMIT");
    const made = await db.transaction(async (tx) => {
      const queued = await this.deps.invites.queueInvite(tx, {
        institutionId: inviter.institutionId,
        email: req.email,
        role: "parent",
        displayName: req.displayName ?? null,
        createdBy: inviter.userId,
        guardianOf: studentId,
      });
      await AuditLog.record(tx, {
        institutionId: inviter.institutionId,
        actorId: inviter.userId,
        action: "guardian.invite",
        targetType: "user",
        targetId: studentId,
        ip,
        details: { email: queued.view.email },
      });
      return queued;
    });
    this.deps.mailer.dispatch([made.naturalKey]);
    return { email: made.view.email, studentId, expiresAt: made.view.expiresAt };
  }

  /** A new parent account from a guardian invite, linked to the child, the terms accepted, signed in. */
  async signUp(req: GuardianSignupRequest, client: ClientInfo): Promise<TokenPair> {
    this.deps.consents.requireCurrent(req.termsVersion);
    const peek = await this.open(this.deps.db, req.token, false);
    checkPassword(this.deps.passwordRule, req.password, { email: peek.email, displayName: req.displayName });
    const passwordHash = await hashPassword(req.password);
    const userId = await this.deps.db.transaction(async (tx) => {
      const invite = await this.open(tx, req.token, true);
      // An address that has an account meanwhile: EMAIL_TAKEN (log in and link the child instead).
      const user = await insertUser(tx, { institutionId: invite.institution_id, email: invite.email, displayName: req.displayName, role: "parent", passwordHash });
      await linkGuardian(tx, user.id, invite.guardian_of!);
      await this.deps.consents.accept(user.id, req.termsVersion, client.ip, tx);
      await this.markUsed(tx, invite, user.id);
      return user.id;
    });
    this.deps.onLinked(userId);
    return this.deps.auth.issue(userId, client);
  }

  /** An existing parent adds a further child with an invite addressed to their own email. */
  async link(parent: Principal, token: string): Promise<{ studentId: string }> {
    requireParent(parent);
    const linked = await this.deps.db.transaction(async (tx) => {
      const invite = await this.open(tx, token, true);
      const me = await tx.query<{ email: string | null; institution_id: string }>("SELECT email, institution_id FROM users WHERE id = $1", [parent.userId]);
      // An invite for someone else (or another institution) is, to this parent, no invite at all.
      if (me.rows[0]?.email !== normalEmail(invite.email) || me.rows[0].institution_id !== invite.institution_id) throw new CoachwireError("LINK_INVALID");
      await linkGuardian(tx, parent.userId, invite.guardian_of!);
      await this.markUsed(tx, invite, parent.userId);
      return { studentId: invite.guardian_of! };
    });
    this.deps.onLinked(parent.userId);
    return linked;
  }

  /** An open guardian invite by token (locked with `lock`); anything else — forged, used, expired, another kind — is LINK_INVALID. */
  private async open(q: Queryable, token: string, lock: boolean): Promise<InviteRow> {
    const res = await q.query<InviteRow>(
      `SELECT token_hash, institution_id, email, role, guardian_of FROM invites
        WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() AND guardian_of IS NOT NULL AND role = 'parent'${lock ? " FOR UPDATE" : ""}`,
      [hashSecretToken(token)],
    );
    if (!res.rows[0]) throw new CoachwireError("LINK_INVALID");
    return res.rows[0];
  }

  private async markUsed(tx: Queryable, invite: InviteRow, userId: string): Promise<void> {
    await tx.query("UPDATE invites SET used_at = now(), accepted_by = $2 WHERE token_hash = $1", [invite.token_hash, userId]);
  }
}

/** Only parent accounts read children or link them. */
export function requireParent(p: Principal): void {
  if (p.role !== "parent") throw new CoachwireError("FORBIDDEN", "Only parent accounts do this");
}
