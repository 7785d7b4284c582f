import type { Denylist } from "./denylist.ts";

/** In-process denylist for the single-process embedded default. */
export class LocalDenylist implements Denylist {
  private readonly entries = new Map<string, number>();
  private readonly sweeper = setInterval(() => this.sweep(Date.now()), 60_000).unref();

  async add(jti: string, expiresAtMs: number): Promise<void> {
    this.entries.set(jti, expiresAtMs);
  }

  async has(jti: string): Promise<boolean> {
    const until = this.entries.get(jti);
    return until !== undefined && until > Date.now();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private sweep(now: number): void {
    for (const [jti, until] of this.entries) if (until <= now) this.entries.delete(jti);
  }
}
