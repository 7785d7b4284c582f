/** What the admin routes answer (docs/api.md, "Admin"); the server's own types live in server/, which the web app does not import. */

export type PersonRole = "admin" | "coach" | "student" | "parent";
export type StaffOrStudent = "admin" | "coach" | "student";
export type PersonStatus = "active" | "deactivated" | "deleted";

/** A user as admins see it (UserView). */
export interface Person {
  id: string;
  email: string | null;
  displayName: string;
  role: PersonRole;
  status: PersonStatus;
  passwordSet: boolean;
  createdAt: number;
  deactivatedAt: number | null;
}

/** A page of a cursor-paged admin list. */
export interface Paged<T> {
  items: T[];
  nextCursor: string | null;
}

/** The answer of POST /api/admin/users/import. */
export interface ImportReport {
  dryRun: boolean;
  rows: number;
  created: number;
  errors: { line: number; reason: string }[];
}

/** One mail of GET /api/admin/outbox. */
export interface OutboxMail {
  id: number | string;
  to: string;
  subject: string;
  text: string;
  link: string | null;
  status: "queued" | "sent" | "failed";
  transport: "smtp" | "outbox" | null;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

/** One row of GET /api/admin/audit. */
export interface AuditRow {
  id: number | string;
  institutionId: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  createdAt: number;
}

export const STAFF_OR_STUDENT: readonly StaffOrStudent[] = ["student", "coach", "admin"];
