import type { Db } from "../../db/db.ts";
import type { Page } from "../../protocol/coaching.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import { AuthService, type Principal } from "../auth/auth-service.ts";
import { decodeCursor, pageOf } from "../coaching/cursor.ts";
import type { Mailer } from "../mail/mailer.ts";
import { insertUser, institutionName, userInInstitution, userView, type UserRow, type UserStatus, type UserView } from "./account-store.ts";
import { csvCell } from "./csv.ts";
import { AuditLog } from "./audit-log.ts";
import type { PasswordService } from "./password-service.ts";
import { requirePermission, type UserRole } from "./roles.ts";

/** Who is acting, and from where (for the audit log). */
export interface Actor {
  principal: Principal;
  ip: string | null;
}

/** Roles an admin can give directly (parents come through a guardian invite). */
export type StaffOrStudentRole = Exclude<UserRole, "parent">;

export interface UserListQuery {
  role?: UserRole | undefined;
  status?: UserStatus | undefined;
  /** Part of the name or email, case-insensitive. */
  q?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * The admin's people: list, create one by one (a welcome mail lets the person choose a
 * password), deactivate (every session of the account closes at once, on every process; their
 * messages stay), reactivate, change role. Every change is one audit row in its transaction.
 */
export class PeopleService {
  constructor(
    private readonly db: Db,
    private readonly auth: AuthService,
    private readonly mailer: Mailer,
    private readonly passwords: PasswordService,
  ) {}

  async list(actor: Actor, query: UserListQuery): Promise<Page<UserView>> {
    requirePermission(actor.principal.role, "people.manage");
    const after = decodeCursor(query.cursor, ["string"]);
    const like = query.q ? `%${query.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    const res = await this.db.query<UserRow>(
      `SELECT * FROM users WHERE institution_id = $1 AND id > $2 AND ($3::text IS NULL OR role = $3) AND ($4::text IS NULL OR status = $4)
          AND ($5::text IS NULL OR lower(display_name) LIKE $5 OR email LIKE $5)
        ORDER BY id LIMIT $6`,
      [actor.principal.institutionId, after?.[0] ?? "", query.role ?? null, query.status ?? null, like, query.limit + 1],
    );
    return pageOf(res.rows, query.limit, userView, (r) => [r.id]);
  }

  /** The caller's own account and institution (any role). */
  async me(principal: Principal): Promise<UserView & { institution: { id: string; name: string } }> {
    const user = await userInInstitution(this.db, principal.institutionId, principal.userId);
    return { ...userView(user), institution: { id: principal.institutionId, name: await institutionName(this.db, principal.institutionId) } };
  }

  /** The institution's people as CSV (`name,email,role,status`), every cell escaped against formula injection. */
  async exportCsv(actor: Actor): Promise<string> {
    requirePermission(actor.principal.role, "people.manage");
    const res = await this.db.query<UserRow>("SELECT * FROM users WHERE institution_id = $1 ORDER BY display_name, id", [actor.principal.institutionId]);
    const lines = ["name,email,role,status", ...res.rows.map((r) => [r.display_name, r.email ?? "", r.role, r.status].map(csvCell).join(","))];
    return `${lines.join("\r\n")}\r\n`;
  }

  async get(actor: Actor, userId: string): Promise<UserView> {
    requirePermission(actor.principal.role, "people.manage");
    return userView(await userInInstitution(this.db, actor.principal.institutionId, userId));
  }

  /** Creates an account without a password and mails its welcome link. */
  async create(actor: Actor, req: { email: string; displayName: string; role: StaffOrStudentRole }): Promise<UserView> {
    requirePermission(actor.principal.role, "people.manage");
    const { user, naturalKey } = await this.db.transaction(async (tx) => {
      const user = await insertUser(tx, { institutionId: actor.principal.institutionId, email: req.email, displayName: req.displayName, role: req.role, passwordHash: null });
      const { naturalKey } = await this.passwords.queueWelcome(tx, user);
      await AuditLog.record(tx, audit(actor, "user.create", user.id, { role: req.role, email: user.email }));
      return { user, naturalKey };
    });
    this.mailer.dispatch([naturalKey]);
    return userView(user);
  }

  /** Deactivates: no sign-in, every refresh token revoked, every access token and open socket cut now. */
  async deactivate(actor: Actor, userId: string): Promise<UserView> {
    requirePermission(actor.principal.role, "people.manage");
    if (userId === actor.principal.userId) throw new CoachwireError("CONFLICT", "You cannot deactivate your own account");
    const { row, changed } = await this.db.transaction(async (tx) => {
      const user = await userInInstitution(tx, actor.principal.institutionId, userId, true);
      if (user.status === "deleted") throw new CoachwireError("NOT_FOUND", `No user ${userId}`);
      if (user.status === "deactivated") return { row: user, changed: false };
      const updated = await tx.query<UserRow>("UPDATE users SET status = 'deactivated', deactivated_at = now() WHERE id = $1 RETURNING *", [userId]);
      await AuthService.revokeRefreshTokens(tx, userId);
      await AuditLog.record(tx, audit(actor, "user.deactivate", userId));
      return { row: updated.rows[0]!, changed: true };
    });
    // +1: a token signed in this very millisecond is cut too (nothing new is signed for a deactivated account).
    if (changed) await this.auth.cutSessions(userId, Date.now() + 1, "account deactivated");
    return userView(row);
  }

  async reactivate(actor: Actor, userId: string): Promise<UserView> {
    requirePermission(actor.principal.role, "people.manage");
    const row = await this.db.transaction(async (tx) => {
      const user = await userInInstitution(tx, actor.principal.institutionId, userId, true);
      if (user.status === "deleted") throw new CoachwireError("NOT_FOUND", `No user ${userId}`);
      if (user.status === "active") return user;
      const updated = await tx.query<UserRow>("UPDATE users SET status = 'active', deactivated_at = NULL WHERE id = $1 RETURNING *", [userId]);
      await AuditLog.record(tx, audit(actor, "user.reactivate", userId));
      return updated.rows[0]!;
    });
    return userView(row);
  }

  /** Changes the role; the account's earlier access tokens (which carry the old role) stop working, refreshing gives the new one. */
  async changeRole(actor: Actor, userId: string, role: StaffOrStudentRole): Promise<UserView> {
    requirePermission(actor.principal.role, "people.manage");
    if (userId === actor.principal.userId) throw new CoachwireError("CONFLICT", "You cannot change your own role");
    const { row, changed } = await this.db.transaction(async (tx) => {
      const user = await userInInstitution(tx, actor.principal.institutionId, userId, true);
      if (user.status === "deleted") throw new CoachwireError("NOT_FOUND", `No user ${userId}`);
      if (user.role === "parent") throw new CoachwireError("VALIDATION_FAILED", "role: a parent account keeps the parent role");
      if (user.role === role) return { row: user, changed: false };
      const updated = await tx.query<UserRow>("UPDATE users SET role = $2 WHERE id = $1 RETURNING *", [userId, role]);
      await AuditLog.record(tx, audit(actor, "user.role", userId, { from: user.role, to: role }));
      return { row: updated.rows[0]!, changed: true };
    });
    if (changed) await this.auth.cutSessions(userId, Date.now(), "token revoked");
    return userView(row);
  }
}

function audit(actor: Actor, action: string, userId: string, details: Record<string, unknown> = {}) {
  return {
    institutionId: actor.principal.institutionId,
    actorId: actor.principal.userId,
    action,
    targetType: "user" as const,
    targetId: userId,
    ip: actor.ip,
    details,
  };
}
