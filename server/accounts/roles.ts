import { CoachwireError } from "../../protocol/errors.ts";

/** The roles an account can have inside its institution. */
export type UserRole = "student" | "coach" | "admin" | "parent";

/** Every role, in the order the docs list them. */
export const USER_ROLES: readonly UserRole[] = ["admin", "coach", "student", "parent"];

/**
 * Who may do what, in one table (the only place role names are compared). Room-level rights
 * (coach of THIS room, member of THIS room) are checked against memberships in
 * server/coaching/access.ts; this table is about the account's role in its institution.
 */
const PERMISSIONS = {
  /** Create group or 1:1 rooms. */
  "room.create": ["coach", "admin"],
  /** Add a subject to the institution's catalog. */
  "subject.create": ["coach", "admin"],
  /** Join a room with a join code. */
  "joinCode.redeem": ["student"],
  /** Be added to a room as a member (parents read through their children, never rooms). */
  "room.member": ["student", "coach", "admin"],
  /** Manage the institution's people: create, import, invite, deactivate, change roles; read the outbox. */
  "people.manage": ["admin"],
  /** Read the institution's audit log. */
  "audit.read": ["admin"],
  /** Invite a guardian (parent) for a student. */
  "guardian.invite": ["coach", "admin"],
} as const satisfies Record<string, readonly UserRole[]>;

/** A right from the table above. */
export type Permission = keyof typeof PERMISSIONS;

const MESSAGES: Record<Permission, string> = {
  "room.create": "Only coaches and admins create rooms",
  "subject.create": "Only coaches and admins add subjects",
  "joinCode.redeem": "Join codes are for students",
  "room.member": "Parents are not room members",
  "people.manage": "Only the institution's admins manage its people",
  "audit.read": "Only the institution's admins read the audit log",
  "guardian.invite": "Only coaches and admins invite guardians",
};

/** True when the role has the permission. */
export function allows(role: UserRole, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly UserRole[]).includes(role);
}

/** Throws FORBIDDEN unless the role has the permission. */
export function requirePermission(role: UserRole, permission: Permission): void {
  if (!allows(role, permission)) throw new CoachwireError("FORBIDDEN", MESSAGES[permission]);
}

/** True when the value names a role (token claims and CSV cells are untrusted). */
export function isRole(value: unknown): value is UserRole {
  return typeof value === "string" && (USER_ROLES as readonly string[]).includes(value);
}
