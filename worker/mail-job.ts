import { createHash } from "node:crypto";
import type { OutboxRow } from "../server/mail/outbox.ts";
import type { JobContext } from "./job-context.ts";
import type { JobOutcome, MailPayload } from "./jobs.ts";

// Tokens in a delivered mail's text are cut out of the stored copy: once it went over SMTP,
// nobody (an admin reading the outbox included) should be able to use its link from here.
const TOKEN_IN_TEXT = /#token=[A-Za-z0-9_-]+/g;

/**
 * Delivers one outbox row. The row is claimed (attempts + 1) only while it is 'queued', so a
 * repeated or duplicated job sends nothing twice once the first run recorded it sent. A failed
 * send is recorded and thrown, so the runner retries with backoff; after the last attempt the
 * row is 'failed'. Without SMTP the mail is kept in the outbox (status 'sent', transport
 * 'outbox') and its link handed to `kept` (the embedded server's log).
 */
export async function runMail(ctx: JobContext, payload: MailPayload): Promise<JobOutcome> {
  const mail = ctx.mail;
  if (!mail) throw new Error("mail job without a mail context");
  const claimed = await ctx.db.query<OutboxRow>(
    "UPDATE outbox SET attempts = attempts + 1 WHERE natural_key = $1 AND status = 'queued' RETURNING *",
    [payload.naturalKey],
  );
  const row = claimed.rows[0];
  if (!row) return;
  if (!mail.transport) {
    await ctx.db.query("UPDATE outbox SET status = 'sent', transport = 'outbox', sent_at = now() WHERE id = $1", [row.id]);
    mail.kept({ to: row.to_email, subject: row.subject, link: row.link });
    return;
  }
  try {
    const messageId = `<${createHash("sha256").update(row.natural_key).digest("hex").slice(0, 32)}@coachwire>`;
    await mail.transport.send({ from: mail.from, to: row.to_email, subject: row.subject, text: row.body_text, messageId });
  } catch (err) {
    const failed = row.attempts >= mail.maxAttempts;
    await ctx.db.query("UPDATE outbox SET status = $2, last_error = $3 WHERE id = $1", [row.id, failed ? "failed" : "queued", String((err as Error)?.message ?? err).slice(0, 500)]);
    throw err;
  }
  await ctx.db.query(
    "UPDATE outbox SET status = 'sent', transport = 'smtp', sent_at = now(), link = NULL, body_text = regexp_replace(body_text, $2, '#token=(removed)', 'g') WHERE id = $1",
    [row.id, TOKEN_IN_TEXT.source],
  );
}
