import type { Logger } from "pino";
import type { MailContext } from "../../worker/job-context.ts";
import type { Config } from "../config.ts";
import { smtpTransport } from "./mail-transport.ts";

/**
 * How this process's mail jobs deliver: over SMTP when COACHWIRE_SMTP_URL is set; otherwise
 * each mail stays in the outbox table and its link is printed to the log, so invitations and
 * resets work on a laptop with nothing configured.
 */
export function mailContext(config: Config, logger: Logger): MailContext {
  return {
    transport: config.mail.smtpUrl ? smtpTransport(config.mail.smtpUrl) : undefined,
    from: config.mail.from,
    maxAttempts: config.jobs.attempts,
    kept: ({ to, subject, link }) => logger.info({ to, subject, link }, `mail kept in the outbox (no SMTP configured) for ${to}: ${link ?? "(no link)"}`),
  };
}
