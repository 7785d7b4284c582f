import { CoachwireError } from "../../protocol/errors.ts";
import type { Queryable } from "../../db/db.ts";

/** What a user has accepted of the terms, against the version in force (GET /api/me/consent). */
export interface ConsentState {
  currentVersion: string;
  /** True when the user accepted the current version. */
  accepted: boolean;
  /** Every version the user accepted, newest first. */
  history: { version: string; acceptedAt: number }[];
}

/**
 * Consent records (KVKK / GDPR): which terms version each user accepted, when and from where.
 * Recorded at sign-up and by POST /api/me/consent; the version in force is COACHWIRE_TERMS_VERSION.
 */
export class Consents {
  constructor(
    private readonly db: Queryable,
    /** The terms version in force. */
    readonly currentVersion: string,
  ) {}

  /** Records that the user accepted the current version (again: nothing changes). `q` lets a sign-up record it in its own transaction. */
  async accept(userId: string, version: string, ip: string, q: Queryable = this.db): Promise<ConsentState> {
    this.requireCurrent(version);
    await q.query("INSERT INTO consents (user_id, terms_version, ip) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [userId, version, ip]);
    return q === this.db ? this.state(userId) : { currentVersion: this.currentVersion, accepted: true, history: [] };
  }

  /** Refuses a version that is not the one in force (TERMS_VERSION_MISMATCH), before anything is written. */
  requireCurrent(version: string): void {
    if (version !== this.currentVersion) {
      throw new CoachwireError("TERMS_VERSION_MISMATCH", `The terms in force are version ${this.currentVersion}; accept that one`);
    }
  }

  async state(userId: string): Promise<ConsentState> {
    const res = await this.db.query<{ terms_version: string; accepted_at: Date }>(
      "SELECT terms_version, accepted_at FROM consents WHERE user_id = $1 ORDER BY accepted_at DESC, terms_version DESC",
      [userId],
    );
    const history = res.rows.map((r) => ({ version: r.terms_version, acceptedAt: r.accepted_at.getTime() }));
    return { currentVersion: this.currentVersion, accepted: history.some((h) => h.version === this.currentVersion), history };
  }
}
