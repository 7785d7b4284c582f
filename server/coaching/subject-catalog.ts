import { randomBytes } from "node:crypto";
import type { SubjectView } from "../../protocol/coaching.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Db } from "../../db/db.ts";
import type { UserRole } from "../auth/auth-service.ts";
import type { Cache } from "../cache/cache.ts";

const CACHE_KEY = "subjects";

/**
 * The subject catalog tasks refer to (Matematik / Türev, Fizik / Optik…), read through the
 * cache (Redis when configured) for `ttlMs`, as the seed guide cached its course list. Adding a
 * subject drops the cached copy, so the next read sees it.
 */
export class SubjectCatalog {
  constructor(
    private readonly db: Db,
    private readonly cache: Cache,
    private readonly ttlMs: number,
  ) {}

  async list(): Promise<SubjectView[]> {
    const cached = await this.cache.get<SubjectView[]>(CACHE_KEY);
    if (cached) return cached;
    const res = await this.db.query<SubjectView>("SELECT id, name, topic FROM subjects ORDER BY name, topic");
    await this.cache.set(CACHE_KEY, res.rows, this.ttlMs);
    return res.rows;
  }

  /** Coaches and admins add subjects; a name/topic pair that exists already is CONFLICT. */
  async create(userRole: UserRole, subject: { name: string; topic: string }): Promise<SubjectView> {
    if (userRole === "student") throw new CoachwireError("FORBIDDEN", "Only coaches add subjects");
    const id = `s_${randomBytes(6).toString("base64url")}`;
    const res = await this.db.query<SubjectView>(
      "INSERT INTO subjects (id, name, topic) VALUES ($1, $2, $3) ON CONFLICT (name, topic) DO NOTHING RETURNING id, name, topic",
      [id, subject.name, subject.topic],
    );
    if (!res.rows[0]) throw new CoachwireError("CONFLICT", `${subject.name} / ${subject.topic} exists already`);
    await this.cache.delete(CACHE_KEY);
    return res.rows[0];
  }
}
