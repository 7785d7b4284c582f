import { createHash, randomBytes } from "node:crypto";
import { CoachwireError } from "../../protocol/errors.ts";
import type { GuardianInviteRequest, GuardianSignupRequest } from "../../protocol/family-schemas.ts";
import type { Db, Queryable } from "../../db/db.ts";
import { AuditLog } from "../accounts/audit-log.ts";
import { requirePermission } from "../accounts/roles.ts";
import type { ClientInfo, Principal, TokenPair, UserRow } from "../auth/auth-service.ts";
import { hashPassword } from "../auth/passwords.ts";
import type { Consents } from "../privacy/consents.ts";
import { linkGuardian } from "./guardianships.ts";

/** A guardian invite as the inviter sees it (the token itself only travels in the mail). */
export interface GuardianInviteView {
  email: string;
  studentId: string;
  expiresAt: number;
}

/** What a guardian invite needs from the rest of the server. */
export interface GuardianInviteDeps {
  db: Db;
  consents: Consents;
  /** How long an invite works, ms. */
  inviteTtlMs: number;
  /** Queues the invite mail in the caller's transaction (one mail per invite: its natural key). */
  queueMail(q: Queryable, mail: { naturalKey: string; institutionId: string; to: string; subject: string; text: string; link: string }): Promise<void>;
  /** The link a parent opens, for a token. */
  inviteLink(token: string): string;
  /** Refuses a password that breaks the strength rule (WEAK_PASSWORD). */
  checkPassword(password: string): void;
  /** Told after a parent was linked to a child (plans the parent's weekly digest). */
  onLinked(parentId: string): void;
  /** Issues the new parent's first session. */
  startSession(user: UserRow, client: ClientInfo): Promise<TokenPair>;
}

interface InviteRow {
  token_hash: string;
  institution_id: string;
  email: string;
  role: string;
  guardian_of: string | null;
  expires_at: Date;
  used_at: Date | null;
}

const sha256 = (value: string) => createHash("sha256").update(value).digest("base64url");
const NOT_A_STUDENT = () => new CoachwireError("NOT_FOUND", "No such student");

/**
 * Guardian (parent) invites: a coach of one of the student's rooms, or an admin of the
 * student's institution, invites a parent by email; the parent signs up with the emailed token
 * (a new parent account linked to the child) or, already a parent, links the further child with
 * it. Tokens are single use and expire; only their sha256 is stored.
 */
export class GuardianInvites {
  constructor(private readonly deps: GuardianInviteDeps) {}

  async create(inviter: Principal, studentId: string, req: GuardianInviteRequest, ip: string): Promise<GuardianInviteView> {
    requirePermission(inviter.role, "guardian.invite");
    const { db } = this.deps;
    const student = await db.query<{ display_name: string; role: string; status: string }>(
      "SELECT display_name, role, status FROM users WHERE id = $1 AND institution_id = $2",
      [studentId, inviter.institutionId],
    );
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
    if (parents.rows[0]!.n >= 2) throw new CoachwireError("GUARDIAN_LIMIT");
    const token = randomBytes(32).toString("base64url");
    const hash = sha256(token);
    const expiresAt = new Date(Date.now() + this.deps.inviteTtlMs);
    const link = this.deps.inviteLink(token);
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO invites (token_hash, institution_id, email, role, display_name, created_by, guardian_of, expires_at)
         VALUES ($1, $2, $3, 'parent', $4, $5, $6, $7)`,
        [hash, inviter.institutionId, req.email, req.displayName ?? null, inviter.userId, studentId, expiresAt],
      );
      await this.deps.queueMail(tx, {
        naturalKey: `invite:${hash}`,
        institutionId: inviter.institutionId,
        to: req.email,
        subject: `You are invited to follow ${s.display_name} on coachwire`,
        text: `You have been invited as a parent of ${s.display_name}. Open this link to create your account (or, if you already have one, to add ${s.display_name}): ${link}`,
        link,
      });
      await AuditLog.record(tx, {
        institutionId: inviter.institutionId,
        actorId: inviter.userId,
        action: "guardian.invite",
        targetType: "user",
        targetId: studentId,
        ip,
        details: { email: req.email },
      });
    });
    return { email: req.email, studentId, expiresAt: expiresAt.getTime() };
  }

  /** A new parent account from a guardian invite, linked to the child, signed in. */
  async signUp(req: GuardianSignupRequest, client: ClientInfo): Promise<TokenPair> {
    if (req.termsVersion !== this.deps.consents.currentVersion) this.refuseTerms();
    this.deps.checkPassword(req.password);
    const passwordHash = await hashPassword(req.password);
    const user = await this.deps.db.transaction(async (tx) => {
      const invite = await this.claim(tx, req.token);
      const taken = await tx.query("SELECT 1 FROM users WHERE email = $1", [invite.email]);
      if (taken.rows.length > 0) throw new CoachwireError("CONFLICT", "An account with this email exists: log in and add the child with POST /api/parent/children");
      const id = `u_${randomBytes(9).toString("base64url")}`;
      const inserted = await tx.query<UserRow>(
        `INSERT INTO users (id, email, display_name, role, password_hash, institution_id) VALUES ($1, $2, $3, 'parent', $4, $5) RETURNING *`,
        [id, invite.email, req.displayName, passwordHash, invite.institution_id],
      );
      await linkGuardian(tx, id, invite.guardian_of!);
      await this.deps.consents.accept(id, req.termsVersion, client.ip, tx);
      await this.markUsed(tx, invite, id);
      return inserted.rows[0]!;
    });
    this.deps.onLinked(user.id);
    return this.deps.startSession(user, client);
  }

  /** An existing parent adds a further child with an invite addressed to their own email. */
  async link(parent: Principal, token: string): Promise<{ studentId: string }> {
    requireParent(parent);
    const linked = await this.deps.db.transaction(async (tx) => {
      const invite = await this.claim(tx, token);
      const me = await tx.query<{ email: string | null; institution_id: string }>("SELECT email, institution_id FROM users WHERE id = $1", [parent.userId]);
      // An invite for someone else (or another institution) is, to this parent, no invite at all.
      if (me.rows[0]?.email !== invite.email || me.rows[0].institution_id !== invite.institution_id) throw new CoachwireError("INVITE_INVALID");
      await linkGuardian(tx, parent.userId, invite.guardian_of!);
      await this.markUsed(tx, invite, parent.userId);
      return { studentId: invite.guardian_of! };
    });
    this.deps.onLinked(parent.userId);
    return linked;
  }

  /** The invite behind a token, locked: unknown (or not a guardian invite) INVITE_INVALID, used INVITE_USED, expired INVITE_EXPIRED. */
  private async claim(tx: Queryable, token: string): Promise<InviteRow> {
    const res = await tx.query<InviteRow>("SELECT * FROM invites WHERE token_hash = $1 FOR UPDATE", [sha256(token)]);
    const invite = res.rows[0];
    if (!invite || invite.guardian_of === null || invite.role !== "parent") throw new CoachwireError("INVITE_INVALID");
    if (invite.used_at !== null) throw new CoachwireError("INVITE_USED");
    if (invite.expires_at.getTime() <= Date.now()) throw new CoachwireError("INVITE_EXPIRED");
    return invite;
  }

  private async markUsed(tx: Queryable, invite: InviteRow, userId: string): Promise<void> {
    await tx.query("UPDATE invites SET used_at = now(), accepted_by = $2 WHERE token_hash = $1", [invite.token_hash, userId]);
  }

  private refuseTerms(): never {
    throw new CoachwireError("TERMS_VERSION_MISMATCH", `The terms in force are version ${this.deps.consents.currentVersion}; accept that one`);
  }
}

/** Only parent accounts link children. */
export function requireParent(p: Principal): void {
  if (p.role !== "parent") throw new CoachwireError("FORBIDDEN", "Only parent accounts do this");
}
