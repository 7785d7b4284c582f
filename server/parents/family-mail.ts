import type { Queryable } from "../../db/db.ts";

/** A mail to queue: its natural key makes it one row, sent once, however often it is queued. */
export interface FamilyMail {
  naturalKey: string;
  institutionId: string;
  to: string;
  subject: string;
  text: string;
  /** The mail's action link (printed to the embedded server's log), if any. */
  link: string | null;
}

/**
 * Queues a guardian invite or parent digest mail in the caller's transaction, as an outbox row
 * that the mail job sends (or, without SMTP, keeps for GET /api/admin/outbox).
 */
export async function queueFamilyMail(q: Queryable, mail: FamilyMail): Promise<void> {
  await q.query(
    `INSERT INTO outbox (natural_key, institution_id, to_email, subject, body_text, link) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (natural_key) DO NOTHING`,
    [mail.naturalKey, mail.institutionId, mail.to, mail.subject, mail.text, mail.link],
  );
}
