import type { Page } from "../../protocol/coaching.ts";
import type { Queryable } from "../../db/db.ts";
import { decodeCursor, pageOf } from "../coaching/cursor.ts";

/** A stored weekly digest, as its parent reads it. */
export interface ParentDigestView {
  id: number;
  /** The local date it went out on (YYYY-MM-DD). */
  week: string;
  body: Record<string, unknown>;
  createdAt: number;
}

/** The parent's own weekly digests (worker/parent-digest-job.ts writes them), newest first. */
export class ParentDigests {
  constructor(private readonly db: Queryable) {}

  async list(parentId: string, page: { limit: number; cursor?: string | undefined }): Promise<Page<ParentDigestView>> {
    const after = decodeCursor(page.cursor, ["number"]);
    const res = await this.db.query<{ id: number; week: string; body: Record<string, unknown>; created_at: Date }>(
      `SELECT id, week, body, created_at FROM parent_digests WHERE parent_id = $1 AND ($2::bigint IS NULL OR id < $2)
        ORDER BY id DESC LIMIT $3`,
      [parentId, after?.[0] ?? null, page.limit + 1],
    );
    return pageOf(res.rows, page.limit, (r) => ({ id: Number(r.id), week: r.week, body: r.body, createdAt: r.created_at.getTime() }), (r) => [Number(r.id)]);
  }
}
