import type { SessionCutoffs } from "./session-cutoffs.ts";

/** Per-user cutoffs in memory, for the single-process embedded default. */
export class LocalSessionCutoffs implements SessionCutoffs {
  private readonly entries = new Map<string, { at: number; until: number }>();
  private readonly sweeper = setInterval(() => this.sweep(Date.now()), 60_000).unref();

  async cut(userId: string, atMs: number, keepUntilMs: number): Promise<void> {
    const current = this.entries.get(userId);
    // A later cut never moves the cutoff back.
    this.entries.set(userId, { at: Math.max(atMs, current?.at ?? 0), until: Math.max(keepUntilMs, current?.until ?? 0) });
  }

  async cutoff(userId: string): Promise<number> {
    const entry = this.entries.get(userId);
    return entry && entry.until > Date.now() ? entry.at : 0;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private sweep(now: number): void {
    for (const [userId, entry] of this.entries) if (entry.until <= now) this.entries.delete(userId);
  }
}
