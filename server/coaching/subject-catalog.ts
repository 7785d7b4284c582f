import { randomBytes } from "node:crypto";
import type { Page, SubjectView } from "../../protocol/coaching.ts";
import type { PageQuery } from "../../protocol/coaching-schemas.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Db } from "../../db/db.ts";
import { requirePermission, type UserRole } from "../accounts/roles.ts";
import type { Cache } from "../cache/cache.ts";
import { UNLIMITED, type CreationQuota } from "../ratelimit/creation-quota.ts";
import { decodeCursor, pageOf } from "./cursor.ts";

/** The cache key of an institution's catalog generation; each page is cached under the generation it was read in. */
export const subjectsGenerationKey = (institutionId: string) => `subjects:gen:${institutionId}`;

/**
 * The subject catalog tasks refer to (Matematik / Türev, Fizik / Optik…): the built-in subjects
 * every institution shares plus the ones its coaches added (never another institution's), read a
 * page at a time (by name and topic) through the cache (Redis when configured) for `ttlMs`, as the
 * seed guide cached its course list. Adding a subject starts a new generation for its institution,
 * so the next read of any page sees it; pages of the old generation are never asked for again and expire.
 */
export class SubjectCatalog {
  constructor(
    private readonly db: Db,
    private readonly cache: Cache,
    private readonly ttlMs: number,
    private readonly quota: Pick<CreationQuota, "charge"> = UNLIMITED,
  ) {}

  /** One page of the institution's catalog, ordered by name then topic. */
  async list(institutionId: string, page: PageQuery = { limit: 50 }): Promise<Page<SubjectView>> {
    const after = decodeCursor(page.cursor, ["string", "string"]);
    const genKey = subjectsGenerationKey(institutionId);
    let generation = await this.cache.get<string>(genKey);
    if (generation === undefined) {
      generation = randomBytes(6).toString("base64url");
      await this.cache.set(genKey, generation, this.ttlMs);
    }
    const key = `subjects:${institutionId}:${generation}:${page.limit}:${page.cursor ?? ""}`;
    const cached = await this.cache.get<Page<SubjectView>>(key);
    if (cached) return cached;
    const visible = "(institution_id IS NULL OR institution_id = $1)";
    const res = after
      ? await this.db.query<SubjectView>(`SELECT id, name, topic FROM subjects WHERE ${visible} AND (name, topic) > ($2, $3) ORDER BY name, topic LIMIT $4`, [
          institutionId,
          after[0],
          after[1],
          page.limit + 1,
        ])
      : await this.db.query<SubjectView>(`SELECT id, name, topic FROM subjects WHERE ${visible} ORDER BY name, topic LIMIT $2`, [institutionId, page.limit + 1]);
    const result = pageOf(res.rows, page.limit, (s) => ({ id: s.id, name: s.name, topic: s.topic }), (s) => [s.name, s.topic]);
    await this.cache.set(key, result, this.ttlMs);
    return result;
  }

  /** Coaches and admins add subjects (within their creation quota); a name/topic pair that exists already is CONFLICT. */
  async create(userId: string, userRole: UserRole, institutionId: string, subject: { name: string; topic: string }): Promise<SubjectView> {
    requirePermission(userRole, "subject.create");
    const builtIn = await this.db.query("SELECT 1 FROM subjects WHERE institution_id IS NULL AND name = $1 AND topic = $2", [subject.name, subject.topic]);
    if (builtIn.rows.length > 0) throw new CoachwireError("CONFLICT", `${subject.name} / ${subject.topic} exists already`);
    await this.quota.charge("subject", userId);
    const id = `s_${randomBytes(6).toString("base64url")}`;
    const res = await this.db.query<SubjectView>(
      "INSERT INTO subjects (id, name, topic, institution_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id, name, topic",
      [id, subject.name, subject.topic, institutionId],
    );
    if (!res.rows[0]) throw new CoachwireError("CONFLICT", `${subject.name} / ${subject.topic} exists already`);
    await this.cache.delete(subjectsGenerationKey(institutionId));
    return res.rows[0];
  }
}
