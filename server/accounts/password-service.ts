import type { Logger } from "pino";
import type { Db, Queryable } from "../../db/db.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import { AuthService, type Principal, type TokenPair } from "../auth/auth-service.ts";
import { hashPassword, verifyPassword } from "../auth/passwords.ts";
import type { Config } from "../config.ts";
import type { Mailer } from "../mail/mailer.ts";
import { Outbox } from "../mail/outbox.ts";
import { resetMail, welcomeMail } from "../mail/templates.ts";
import { institutionName, normalEmail, type UserRow } from "./account-store.ts";
import { checkPassword } from "./password-policy.ts";
import { hashSecretToken, newSecretToken } from "./secret-tokens.ts";

/** What the password flows need. */
export interface PasswordContext {
  db: Db;
  auth: AuthService;
  mailer: Mailer;
  config: Config["accounts"];
  logger: Logger;
}

/** A mail queued in a transaction: dispatch its key after the commit. */
export interface QueuedLink {
  naturalKey: string;
  link: string;
}

/**
 * Passwords: the first one (welcome link), a change (needs the current one; every other session
 * ends), and a reset by emailed token (single use, COACHWIRE_RESET_TTL_S, the same answer
 * whether or not the email has an account). Each new password must pass the password rule.
 */
export class PasswordService {
  constructor(private readonly ctx: PasswordContext) {}

  /** Creates a welcome (set-your-password) link for a new account and queues its mail, in `tx`. */
  queueWelcome(tx: Queryable, user: Pick<UserRow, "id" | "email" | "institution_id">): Promise<QueuedLink> {
    return queueWelcome(tx, this.ctx.config, user);
  }

  /**
   * Asks for a reset mail. Resolves at once, whatever the email: the lookup and the mail happen
   * afterwards, so neither the answer nor its timing says whether the account exists.
   */
  requestReset(email: string): void {
    this.queueReset(normalEmail(email)).catch((err) => this.ctx.logger.error({ err }, "could not queue a password reset"));
  }

  private async queueReset(email: string): Promise<void> {
    const { token, hash } = newSecretToken();
    const expiresAt = new Date(Date.now() + this.ctx.config.resetTtlS * 1000);
    const naturalKey = `reset:${hash}`;
    const queued = await this.ctx.db.transaction(async (tx) => {
      const found = await tx.query<UserRow>("SELECT * FROM users WHERE email = $1 AND status = 'active'", [email]);
      const user = found.rows[0];
      if (!user) return false;
      await tx.query("INSERT INTO password_resets (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, 'reset', $3)", [hash, user.id, expiresAt]);
      const link = `${this.ctx.config.publicUrl}/reset-password#token=${token}`;
      await Outbox.queue(tx, { naturalKey, institutionId: user.institution_id, to: email, ...resetMail({ link, expiresAt }) });
      return true;
    });
    if (queued) this.ctx.mailer.dispatch([naturalKey]);
  }

  /**
   * Sets a password with a reset or welcome token: the token is used up, every other open
   * password link of the account too, and every session ends. Signs the user in.
   */
  async setWithToken(token: string, password: string): Promise<TokenPair> {
    const hash = hashSecretToken(token);
    const user = await this.ctx.db.transaction(async (tx) => {
      const found = await tx.query<UserRow>(
        `SELECT u.* FROM password_resets p JOIN users u ON u.id = p.user_id
          WHERE p.token_hash = $1 AND p.used_at IS NULL AND p.expires_at > now() AND u.status = 'active' FOR UPDATE OF p`,
        [hash],
      );
      const row = found.rows[0];
      if (!row) throw new CoachwireError("LINK_INVALID");
      // Checked before the token is used, so a refused password can be retried with the same link.
      checkPassword({ minLength: this.ctx.config.passwordMinLength }, password, { email: row.email, displayName: row.display_name });
      await tx.query("UPDATE users SET password_hash = $2 WHERE id = $1", [row.id, await hashPassword(password)]);
      await tx.query("UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL", [row.id]);
      await AuthService.revokeRefreshTokens(tx, row.id);
      return row;
    });
    await this.ctx.auth.cutSessions(user.id, Date.now(), "token revoked");
    return this.ctx.auth.issue(user.id);
  }

  /** Changes the caller's password: the current one must be right; every other session ends, and this one gets fresh tokens. */
  async change(principal: Principal, currentPassword: string, newPassword: string): Promise<TokenPair> {
    const user = await this.ctx.db.transaction(async (tx) => {
      const found = await tx.query<UserRow>("SELECT * FROM users WHERE id = $1 AND status = 'active' FOR UPDATE", [principal.userId]);
      const row = found.rows[0];
      if (!row) throw new CoachwireError("ACCOUNT_DEACTIVATED");
      if (!row.password_hash || !(await verifyPassword(currentPassword, row.password_hash))) {
        throw new CoachwireError("INVALID_CREDENTIALS", "The current password is wrong");
      }
      checkPassword({ minLength: this.ctx.config.passwordMinLength }, newPassword, { email: row.email, displayName: row.display_name });
      await tx.query("UPDATE users SET password_hash = $2 WHERE id = $1", [row.id, await hashPassword(newPassword)]);
      await AuthService.revokeRefreshTokens(tx, row.id);
      return row;
    });
    await this.ctx.auth.cutSessions(user.id, Date.now(), "token revoked");
    return this.ctx.auth.issue(user.id);
  }
}

/** A welcome link (COACHWIRE_WELCOME_TTL_S) for an account without a password, its mail queued in `tx` (also used by the admin CLI). */
export async function queueWelcome(tx: Queryable, config: Config["accounts"], user: Pick<UserRow, "id" | "email" | "institution_id">): Promise<QueuedLink> {
  const { token, hash } = newSecretToken();
  const expiresAt = new Date(Date.now() + config.welcomeTtlS * 1000);
  await tx.query("INSERT INTO password_resets (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, 'welcome', $3)", [hash, user.id, expiresAt]);
  const link = `${config.publicUrl}/set-password#token=${token}`;
  const mail = welcomeMail({ link, institutionName: await institutionName(tx, user.institution_id), expiresAt });
  const naturalKey = `welcome:${hash}`;
  await Outbox.queue(tx, { naturalKey, institutionId: user.institution_id, to: user.email!, ...mail });
  return { naturalKey, link };
}
