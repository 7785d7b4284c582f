import type { Queryable } from "../../db/db.ts";
import type { SessionCutoffs } from "./session-cutoffs.ts";

const SWEEP_MS = 60_000;

/**
 * Per-user cutoffs in the `session_cutoffs` table (migration 011): the embedded default and any
 * deployment without Redis. Every process on the database sees them and a restart keeps them.
 * Rows kept past `keep_until` are swept once a minute; until then a read ignores them.
 */
export class DatabaseSessionCutoffs implements SessionCutoffs {
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly db: Queryable) {
    // A failed sweep only leaves rows a read ignores, for the next one.
    this.sweeper = setInterval(() => void this.sweep().catch(() => {}), SWEEP_MS).unref();
  }

  async cut(userId: string, atMs: number, keepUntilMs: number): Promise<void> {
    if (keepUntilMs <= Date.now()) return; // covers no token that is still valid
    // A later cut never moves the cutoff back, nor shortens how long it is kept.
    await this.db.query(
      `INSERT INTO session_cutoffs (user_id, cut_at, keep_until) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET
         cut_at = CASE WHEN session_cutoffs.keep_until > $4 THEN GREATEST(session_cutoffs.cut_at, EXCLUDED.cut_at) ELSE EXCLUDED.cut_at END,
         keep_until = GREATEST(session_cutoffs.keep_until, EXCLUDED.keep_until)`,
      [userId, Math.floor(atMs), new Date(keepUntilMs), new Date()],
    );
  }

  async cutoff(userId: string): Promise<number> {
    // The process clock decides expiry, as it does for the tokens' exp.
    const res = await this.db.query<{ cut_at: string }>("SELECT cut_at FROM session_cutoffs WHERE user_id = $1 AND keep_until > $2", [userId, new Date()]);
    return res.rows[0] ? Number(res.rows[0].cut_at) : 0;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private async sweep(): Promise<void> {
    await this.db.query("DELETE FROM session_cutoffs WHERE keep_until <= $1", [new Date()]);
  }
}
