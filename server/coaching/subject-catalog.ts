import { randomBytes } from "node:crypto";
import type { Page, SubjectView } from "../../protocol/coaching.ts";
import type { PageQuery } from "../../protocol/coaching-schemas.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Db } from "../../db/db.ts";
import type { UserRole } from "../auth/auth-service.ts";
import type { Cache } from "../cache/cache.ts";
import { UNLIMITED, type CreationQuota } from "../ratelimit/creation-quota.ts";
import { decodeCursor, pageOf } from "./cursor.ts";

/** The cache key of the catalog's generation; each page is cached under the generation it was read in. */
export const SUBJECTS_GENERATION_KEY = "subjects:gen";

/**
 * The subject catalog tasks refer to (Matematik / Türev, Fizik / Optik…), read a page at a time
 * (by name and topic) through the cache (Redis when configured) for `ttlMs`, as the seed guide
 * cached its course list. Adding a subject starts a new generation, so the next read of any page
 * sees it; pages of the old generation are simply never asked for again and expire.
 */
export class SubjectCatalog {
  constructor(
    private readonly db: Db,
    private readonly cache: Cache,
    private readonly ttlMs: number,
    private readonly quota: Pick<CreationQuota, "charge"> = UNLIMITED,
  ) {}

  /** One page of the catalog, ordered by name then topic. */
  async list(page: PageQuery = { limit: 50 }): Promise<Page<SubjectView>> {
    const after = decodeCursor(page.cursor, ["string", "string"]);
    let generation = await this.cache.get<string>(SUBJECTS_GENERATION_KEY);
    if (generation === undefined) {
      generation = randomBytes(6).toString("base64url");
      await this.cache.set(SUBJECTS_GENERATION_KEY, generation, this.ttlMs);
    }
    const key = `subjects:${generation}:${page.limit}:${page.cursor ?? ""}`;
    const cached = await this.cache.get<Page<SubjectView>>(key);
    if (cached) return cached;
    const res = after
      ? await this.db.query<SubjectView>("SELECT id, name, topic FROM subjects WHERE (name, topic) > ($1, $2) ORDER BY name, topic LIMIT $3", [
          after[0],
          after[1],
          page.limit + 1,
        ])
      : await this.db.query<SubjectView>("SELECT id, name, topic FROM subjects ORDER BY name, topic LIMIT $1", [page.limit + 1]);
    const result = pageOf(res.rows, page.limit, (s) => ({ id: s.id, name: s.name, topic: s.topic }), (s) => [s.name, s.topic]);
    await this.cache.set(key, result, this.ttlMs);
    return result;
  }

  /** Coaches and admins add subjects (within their creation quota); a name/topic pair that exists already is CONFLICT. */
  async create(userId: string, userRole: UserRole, subject: { name: string; topic: string }): Promise<SubjectView> {
    if (userRole === "student") throw new CoachwireError("FORBIDDEN", "Only coaches add subjects");
    const exists = await this.db.query("SELECT 1 FROM subjects WHERE name = $1 AND topic = $2", [subject.name, subject.topic]);
    if (exists.rows.length > 0) throw new CoachwireError("CONFLICT", `${subject.name} / ${subject.topic} exists already`);
    await this.quota.charge("subject", userId);
    const id = `s_${randomBytes(6).toString("base64url")}`;
    const res = await this.db.query<SubjectView>(
      "INSERT INTO subjects (id, name, topic) VALUES ($1, $2, $3) ON CONFLICT (name, topic) DO NOTHING RETURNING id, name, topic",
      [id, subject.name, subject.topic],
    );
    if (!res.rows[0]) throw new CoachwireError("CONFLICT", `${subject.name} / ${subject.topic} exists already`);
    await this.cache.delete(SUBJECTS_GENERATION_KEY);
    return res.rows[0];
  }
}
