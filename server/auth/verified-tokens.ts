import type { Principal } from "./auth-service.ts";

/**
 * Access tokens this process has verified, kept until they expire so that a reconnect (a storm,
 * a drain's clients arriving) is checked with a map lookup instead of the signature, the
 * denylist, the user's cutoff and the user's row. What would make a verification fail now must
 * drop the entry: a revoked token, family or user cut-off, on this process or (through the
 * fan-out's server-side events) another. Those events travel over Redis pub/sub, which is
 * at-most-once: the caller flushes everything when the subscriber reconnects ({@link clear}).
 * A lookup that raced a revocation is not kept ({@link epoch}).
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, Principal>();
  private revocations = 0;
  private readonly sweeper = setInterval(() => this.sweep(Date.now()), 60_000).unref();
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries: number) {}

  /** The principal of a token verified before and still valid, or undefined. */
  get(token: string, now: number): Principal | undefined {
    const principal = this.entries.get(token);
    if (principal && principal.expiresAt > now) {
      this.hits++;
      return principal;
    }
    if (principal) this.entries.delete(token);
    this.misses++;
    return undefined;
  }

  /** Counts revocations: a verification that started at an older epoch may have read the denylist before one. */
  get epoch(): number {
    return this.revocations;
  }

  /** Keeps a token that was just verified, unless a revocation came while it was being checked. */
  set(token: string, principal: Principal, startedAt: number): void {
    if (startedAt !== this.revocations) return;
    if (this.entries.size >= this.maxEntries) {
      // The oldest first (insertion order): they expire soonest.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(token, principal);
  }

  /** An access token was revoked (logout). */
  revokeToken(jti: string): void {
    this.drop((p) => p.jti === jti);
  }

  /** A login session (refresh-token family) was revoked. */
  revokeFamily(familyId: string): void {
    this.drop((p) => p.familyId === familyId);
  }

  /** Every token of the user signed before `beforeMs` is void (deactivation, password change, erasure). */
  cutUser(userId: string, beforeMs: number): void {
    this.drop((p) => p.userId === userId && p.issuedAt < beforeMs);
  }

  /** Forgets everything (revocations may have been missed). */
  clear(): void {
    this.revocations++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private drop(matches: (p: Principal) => boolean): void {
    // Revocations are rare; a scan of the live tokens is cheaper than keeping three indexes current.
    this.revocations++;
    for (const [token, p] of this.entries) if (matches(p)) this.entries.delete(token);
  }

  private sweep(now: number): void {
    for (const [token, p] of this.entries) if (p.expiresAt <= now) this.entries.delete(token);
  }
}
