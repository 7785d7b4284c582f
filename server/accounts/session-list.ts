import { CoachwireError } from "../../protocol/errors.ts";
import type { Db } from "../../db/db.ts";
import type { AuthService } from "../auth/auth-service.ts";

/** One login session as its user sees it (GET /api/me/sessions). */
export interface SessionView {
  /** The refresh-token family id: what DELETE /api/me/sessions/:id takes. */
  id: string;
  userAgent: string;
  ip: string;
  createdAt: number;
  lastUsedAt: number;
  /** The session the request itself was made with. */
  current: boolean;
}

interface FamilyRow {
  family_id: string;
  user_agent: string | null;
  ip: string | null;
  created_at: Date;
  last_used_at: Date;
}

/**
 * A user's live login sessions: every refresh-token family with a token that is neither revoked
 * nor expired, newest use first, and revoking one or all of them (which also ends their access
 * tokens and sockets, through {@link AuthService.revokeFamily}).
 */
export class SessionList {
  constructor(
    private readonly db: Db,
    private readonly auth: AuthService,
  ) {}

  async list(userId: string, currentFamilyId: string | undefined): Promise<SessionView[]> {
    const res = await this.db.query<FamilyRow>(
      `SELECT t.family_id, f.user_agent, f.ip,
              coalesce(f.created_at, min(t.created_at)) AS created_at,
              coalesce(f.last_used_at, max(t.created_at)) AS last_used_at
         FROM refresh_tokens t LEFT JOIN session_families f ON f.family_id = t.family_id
        WHERE t.user_id = $1 AND t.revoked_at IS NULL AND t.expires_at > now() AND f.revoked_at IS NULL
        GROUP BY t.family_id, f.user_agent, f.ip, f.created_at, f.last_used_at
        ORDER BY last_used_at DESC, t.family_id`,
      [userId],
    );
    return res.rows.map((r) => ({
      id: r.family_id,
      userAgent: r.user_agent ?? "",
      ip: r.ip ?? "",
      createdAt: r.created_at.getTime(),
      lastUsedAt: r.last_used_at.getTime(),
      current: r.family_id === currentFamilyId,
    }));
  }

  /** Ends one of the user's sessions; someone else's (or an unknown or already ended one) is NOT_FOUND. */
  async revoke(userId: string, familyId: string): Promise<void> {
    const live = await this.db.query(
      "SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now() LIMIT 1",
      [familyId, userId],
    );
    if (live.rows.length === 0) throw new CoachwireError("NOT_FOUND", "No such session");
    await this.auth.revokeFamily(userId, familyId);
  }

  /** Ends every session of the user (the current one too); returns how many live sessions were ended. */
  async revokeAll(userId: string): Promise<number> {
    const live = await this.db.query<{ family_id: string }>(
      "SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()",
      [userId],
    );
    for (const { family_id } of live.rows) await this.auth.revokeFamily(userId, family_id);
    // Sessions with no live refresh token left are over already: just say so.
    await this.db.query("UPDATE session_families SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", [userId]);
    return live.rows.length;
  }
}
