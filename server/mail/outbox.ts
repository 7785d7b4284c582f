import type { Queryable } from "../../db/db.ts";
import type { Page } from "../../protocol/coaching.ts";
import { decodeCursor, pageOf } from "../coaching/cursor.ts";

/** A mail to queue. `naturalKey` names it (e.g. `invite:<token hash>`): queueing it twice is one mail. */
export interface OutgoingMail {
  naturalKey: string;
  institutionId: string | null;
  to: string;
  subject: string;
  text: string;
  /** The mail's action link (also inside `text`), printed to the log when no SMTP is configured. */
  link: string | null;
}

/** A row of the outbox as `GET /api/admin/outbox` shows it. */
export interface OutboxView {
  id: number;
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

/** An outbox row as the send job reads it. */
export interface OutboxRow {
  id: number;
  natural_key: string;
  to_email: string;
  subject: string;
  body_text: string;
  link: string | null;
  status: "queued" | "sent" | "failed";
  transport: "smtp" | "outbox" | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

/**
 * The outbox table: every mail the system ever queued, its status and attempts. Mail is queued
 * in the transaction of the change it announces; the send job (worker/mail-job.ts) delivers it.
 */
export const Outbox = {
  /** Queues the mail in the caller's transaction; false when a mail with this natural key exists already. */
  async queue(q: Queryable, mail: OutgoingMail): Promise<boolean> {
    const res = await q.query(
      `INSERT INTO outbox (natural_key, institution_id, to_email, subject, body_text, link) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (natural_key) DO NOTHING RETURNING id`,
      [mail.naturalKey, mail.institutionId, mail.to, mail.subject, mail.text, mail.link],
    );
    return res.rows.length > 0;
  },

  /** Natural keys of mail still waiting to be sent (re-dispatched at start-up). */
  async waiting(q: Queryable): Promise<string[]> {
    const res = await q.query<{ natural_key: string }>("SELECT natural_key FROM outbox WHERE status = 'queued' ORDER BY id LIMIT 10000");
    return res.rows.map((r) => r.natural_key);
  },

  /** The institution's mail, newest first. */
  async list(q: Queryable, institutionId: string, page: { limit: number; cursor?: string | undefined }): Promise<Page<OutboxView>> {
    const after = decodeCursor(page.cursor, ["number"]);
    const res = await q.query<OutboxRow>(
      "SELECT * FROM outbox WHERE institution_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
      [institutionId, after?.[0] ?? null, page.limit + 1],
    );
    return pageOf(res.rows, page.limit, outboxView, (r) => [r.id]);
  },
};

function outboxView(r: OutboxRow): OutboxView {
  return {
    id: r.id,
    to: r.to_email,
    subject: r.subject,
    text: r.body_text,
    link: r.link,
    status: r.status,
    transport: r.transport,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at.getTime(),
    sentAt: r.sent_at ? r.sent_at.getTime() : null,
  };
}
