import { randomBytes } from "node:crypto";
import type { Queryable } from "../../db/db.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { UserRole } from "./roles.ts";

/** Account status: deactivated accounts keep their messages but cannot sign in. */
export type UserStatus = "active" | "deactivated" | "deleted";

/** An account as admins see it. */
export interface UserView {
  id: string;
  email: string | null;
  displayName: string;
  role: UserRole;
  status: UserStatus;
  /** False until the person chose a password (welcome or invite link not used yet). */
  passwordSet: boolean;
  createdAt: number;
  deactivatedAt: number | null;
}

export interface UserRow {
  id: string;
  institution_id: string;
  email: string | null;
  display_name: string;
  role: UserRole;
  status: UserStatus;
  password_hash: string | null;
  created_at: Date;
  deactivated_at: Date | null;
}

/** The one spelling of an email the database keeps (trimmed, lower case). */
export const normalEmail = (email: string) => email.trim().toLowerCase();

/** A new account id. */
export const newUserId = () => `u_${randomBytes(9).toString("base64url")}`;

export function userView(r: UserRow): UserView {
  return {
    id: r.id,
    email: r.email,
    displayName: r.display_name,
    role: r.role,
    status: r.status,
    passwordSet: r.password_hash !== null,
    createdAt: r.created_at.getTime(),
    deactivatedAt: r.deactivated_at ? r.deactivated_at.getTime() : null,
  };
}

/** Inserts an account; an email in use (by anyone, in any institution) is EMAIL_TAKEN. */
export async function insertUser(
  q: Queryable,
  user: { institutionId: string; email: string; displayName: string; role: UserRole; passwordHash: string | null },
): Promise<UserRow> {
  const id = newUserId();
  const res = await q.query<UserRow>(
    `INSERT INTO users (id, institution_id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (email) DO NOTHING RETURNING *`,
    [id, user.institutionId, normalEmail(user.email), user.displayName, user.role, user.passwordHash],
  );
  if (!res.rows[0]) throw new CoachwireError("EMAIL_TAKEN");
  return res.rows[0];
}

/** An account of the institution; one of another institution is NOT_FOUND, exactly like a missing one. */
export async function userInInstitution(q: Queryable, institutionId: string, userId: string, lock = false): Promise<UserRow> {
  const res = await q.query<UserRow>(`SELECT * FROM users WHERE id = $1 AND institution_id = $2${lock ? " FOR UPDATE" : ""}`, [userId, institutionId]);
  if (!res.rows[0]) throw new CoachwireError("NOT_FOUND", `No user ${userId}`);
  return res.rows[0];
}

/** The institution's display name (for mail). */
export async function institutionName(q: Queryable, institutionId: string): Promise<string> {
  const res = await q.query<{ name: string }>("SELECT name FROM institutions WHERE id = $1", [institutionId]);
  return res.rows[0]?.name ?? institutionId;
}
