import type { Queryable } from "../../db/db.ts";
import type { Denylist } from "./denylist.ts";

const SWEEP_MS = 60_000;

/**
 * The denylist in the `token_denylist` table (migration 007): the embedded default and any
 * deployment without Redis. Every process on the database sees the same entries, and they
 * survive a restart. Expired rows are swept once a minute; until then a query ignores them.
 */
export class DatabaseDenylist implements Denylist {
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly db: Queryable) {
    // A failed sweep only leaves expired rows (ignored by hasAny) for the next one.
    this.sweeper = setInterval(() => void this.sweep().catch(() => {}), SWEEP_MS).unref();
  }

  async add(key: string, expiresAtMs: number): Promise<void> {
    if (expiresAtMs <= Date.now()) return; // over before it began: verification refuses it anyway
    await this.db.query(
      `INSERT INTO token_denylist (key, expires_at) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET expires_at = GREATEST(token_denylist.expires_at, EXCLUDED.expires_at)`,
      [key, new Date(expiresAtMs)],
    );
  }

  async hasAny(keys: readonly string[]): Promise<boolean> {
    if (keys.length === 0) return false;
    // The process clock, not the database's, decides expiry: the same clock the tokens' exp uses.
    const found = await this.db.query("SELECT 1 FROM token_denylist WHERE key = ANY ($1) AND expires_at > $2 LIMIT 1", [
      [...keys],
      new Date(),
    ]);
    return found.rows.length > 0;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private async sweep(): Promise<void> {
    await this.db.query("DELETE FROM token_denylist WHERE expires_at <= $1", [new Date()]);
  }
}
