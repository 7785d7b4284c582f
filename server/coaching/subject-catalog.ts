import { randomBytes } from "node:crypto";
import type { SubjectView } from "../../protocol/coaching.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Db } from "../../db/db.ts";
import { requirePermission, type UserRole } from "../accounts/roles.ts";
import type { Cache } from "../cache/cache.ts";

/** One cached list per institution (the built-in subjects plus its own). */
const cacheKey = (institutionId: string) => `subjects:${institutionId}`;

/**
 * The subject catalog tasks refer to (Matematik / Türev, Fizik / Optik…): the built-in subjects
 * every institution shares plus the ones its coaches added (never another institution's), read through the
 * cache (Redis when configured) for `ttlMs`, as the seed guide cached its course list. Adding a
 * subject drops the cached copy, so the next read sees it.
 */
export class SubjectCatalog {
  constructor(
    private readonly db: Db,
    private readonly cache: Cache,
    private readonly ttlMs: number,
  ) {}

  async list(institutionId: string): Promise<SubjectView[]> {
    const cached = await this.cache.get<SubjectView[]>(cacheKey(institutionId));
    if (cached) return cached;
    const res = await this.db.query<SubjectView>(
      "SELECT id, name, topic FROM subjects WHERE institution_id IS NULL OR institution_id = $1 ORDER BY name, topic, id",
      [institutionId],
    );
    await this.cache.set(cacheKey(institutionId), res.rows, this.ttlMs);
    return res.rows;
  }

  /** Coaches and admins add subjects; a name/topic pair that exists already is CONFLICT. */
  async create(userRole: UserRole, institutionId: string, subject: { name: string; topic: string }): Promise<SubjectView> {
    requirePermission(userRole, "subject.create");
    const builtIn = await this.db.query("SELECT 1 FROM subjects WHERE institution_id IS NULL AND name = $1 AND topic = $2", [subject.name, subject.topic]);
    if (builtIn.rows.length > 0) throw new CoachwireError("CONFLICT", `${subject.name} / ${subject.topic} exists already`);
    const id = `s_${randomBytes(6).toString("base64url")}`;
    const res = await this.db.query<SubjectView>(
      "INSERT INTO subjects (id, name, topic, institution_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id, name, topic",
      [id, subject.name, subject.topic, institutionId],
    );
    if (!res.rows[0]) throw new CoachwireError("CONFLICT", `${subject.name} / ${subject.topic} exists already`);
    await this.cache.delete(cacheKey(institutionId));
    return res.rows[0];
  }
}
