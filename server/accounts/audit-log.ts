import type { Queryable } from "../../db/db.ts";
import { decodeCursor, pageOf } from "../coaching/cursor.ts";
import type { Page } from "../../protocol/coaching.ts";

/** What an audit row is about: an account, a room, an import, an invite… */
export type AuditTargetType = "user" | "room" | "message" | "import" | "invite" | "institution";

/** One admin or moderation action, as recorded. */
export interface AuditEntry {
  institutionId: string;
  /** Who did it; null for the operator's CLI. */
  actorId: string | null;
  /** Dotted verb, e.g. `user.deactivate`, `member.mute`, `message.delete`. */
  action: string;
  targetType: AuditTargetType | null;
  targetId: string | null;
  ip: string | null;
  details?: Record<string, unknown>;
}

/** An audit row on the wire. */
export interface AuditView extends Omit<AuditEntry, "details"> {
  id: number;
  details: Record<string, unknown>;
  createdAt: number;
}

/** Filters of `GET /api/admin/audit` (all optional, combined with AND). */
export interface AuditFilter {
  action?: string | undefined;
  actorId?: string | undefined;
  targetId?: string | undefined;
  /** Milliseconds since the epoch, inclusive. */
  since?: number | undefined;
  until?: number | undefined;
  limit: number;
  cursor?: string | undefined;
}

interface AuditRow {
  id: number;
  institution_id: string;
  actor_id: string | null;
  action: string;
  target_type: AuditTargetType | null;
  target_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  created_at: Date;
}

/**
 * The append-only audit log. `record` takes the transaction of the change it describes (so the
 * row and the change commit together, or neither does); the table refuses UPDATE and DELETE.
 */
export const AuditLog = {
  /** Appends one row. */
  async record(q: Queryable, entry: AuditEntry): Promise<void> {
    await q.query(
      `INSERT INTO audit_log (institution_id, actor_id, action, target_type, target_id, ip, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [entry.institutionId, entry.actorId, entry.action, entry.targetType, entry.targetId, entry.ip, JSON.stringify(entry.details ?? {})],
    );
  },

  /** The institution's rows, newest first, filtered, one page at a time. */
  async list(q: Queryable, institutionId: string, filter: AuditFilter): Promise<Page<AuditView>> {
    const after = decodeCursor(filter.cursor, ["number"]);
    const res = await q.query<AuditRow>(
      `SELECT * FROM audit_log
        WHERE institution_id = $1 AND ($2::bigint IS NULL OR id < $2)
          AND ($3::text IS NULL OR action = $3) AND ($4::text IS NULL OR actor_id = $4) AND ($5::text IS NULL OR target_id = $5)
          AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::timestamptz IS NULL OR created_at <= $7)
        ORDER BY id DESC LIMIT $8`,
      [
        institutionId,
        after?.[0] ?? null,
        filter.action ?? null,
        filter.actorId ?? null,
        filter.targetId ?? null,
        filter.since === undefined ? null : new Date(filter.since),
        filter.until === undefined ? null : new Date(filter.until),
        filter.limit + 1,
      ],
    );
    return pageOf(res.rows, filter.limit, auditView, (r) => [r.id]);
  },
};

function auditView(r: AuditRow): AuditView {
  return {
    id: r.id,
    institutionId: r.institution_id,
    actorId: r.actor_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    ip: r.ip,
    details: r.details,
    createdAt: r.created_at.getTime(),
  };
}
