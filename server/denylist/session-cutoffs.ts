/**
 * Per-user revocation: "every access token of this user signed before T is void" (deactivation,
 * a password change). Kept for as long as an access token lives, so it costs one entry per
 * user affected, not one per token. In-process for the embedded default
 * (`local-session-cutoffs.ts`), in Redis for every process when REDIS_URL is set.
 */
export interface SessionCutoffs {
  /** Voids the user's tokens signed before `atMs`; the mark is kept until `keepUntilMs`. */
  cut(userId: string, atMs: number, keepUntilMs: number): Promise<void>;
  /** The user's latest cutoff (ms since the epoch), or 0 when there is none. */
  cutoff(userId: string): Promise<number>;
  close(): Promise<void>;
}
