import { CoachwireError } from "../../protocol/errors.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { waitHint } from "./rate-limiter.ts";

/** The things a user makes that stay around (and so are rationed): each kind has its own quota. */
export type CreationKind = "task" | "room" | "join-code" | "subject";

/**
 * Per-user quotas on creations: COACHWIRE_CREATE_QUOTA of each kind per
 * COACHWIRE_CREATE_QUOTA_WINDOW_S, as a token bucket (so the allowance comes back gradually).
 * Charged only for a creation that is about to be written: an idempotent repeat, a refused
 * request or a 1:1 room that exists already costs nothing.
 */
export class CreationQuota {
  constructor(private readonly limiter: RateLimiter) {}

  /** Takes one of the user's allowance for `kind`, or throws QUOTA_EXCEEDED. */
  async charge(kind: CreationKind, userId: string): Promise<void> {
    const decision = await this.limiter.consume(`${kind}:${userId}`);
    if (!decision.allowed) {
      throw new CoachwireError("QUOTA_EXCEEDED", `Too many ${kind}s made recently; the next is allowed in ${Math.ceil(decision.retryAfterMs / 1000)} s`, waitHint(decision.retryAfterMs));
    }
  }
}

/** No quota at all (for callers that write on the server's own behalf, e.g. the demo seed). */
export const UNLIMITED: Pick<CreationQuota, "charge"> = { charge: async () => {} };
