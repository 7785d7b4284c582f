import type { RoomEvent } from "../../protocol/events.ts";
import type { Queryable } from "../../db/db.ts";
import { EVENT_COLUMNS, rowToEvent } from "./append.ts";
import { forViewer, type Viewer } from "./audience.ts";

/** A page of a room's log, always in ascending seq order. */
export interface LogPage {
  events: RoomEvent[];
  /** More events exist beyond this page in the direction read. */
  hasMore: boolean;
}

type Row = Parameters<typeof rowToEvent>[0];

/** Events with seq > `after`, oldest first, at most `limit`, as `viewer` may see them. */
export async function readAfter(db: Queryable, roomId: string, after: number, limit: number, viewer: Viewer): Promise<LogPage> {
  const res = await db.query<Row>(
    `SELECT ${EVENT_COLUMNS} FROM room_events WHERE room_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3`,
    [roomId, after, limit + 1],
  );
  const hasMore = res.rows.length > limit;
  return { events: res.rows.slice(0, limit).map((row) => forViewer(rowToEvent(row), viewer)), hasMore };
}

/** The `limit` events just before seq `before` (or the newest ones when `before` is omitted), as `viewer` may see them. */
export async function readBefore(db: Queryable, roomId: string, before: number | undefined, limit: number, viewer: Viewer): Promise<LogPage> {
  const res = await db.query<Row>(
    `SELECT ${EVENT_COLUMNS} FROM room_events
      WHERE room_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint)
      ORDER BY seq DESC LIMIT $3`,
    [roomId, before ?? null, limit + 1],
  );
  const hasMore = res.rows.length > limit;
  return { events: res.rows.slice(0, limit).reverse().map((row) => forViewer(rowToEvent(row), viewer)), hasMore };
}

/** Events a history request returns when it names no limit (the socket event and the REST route alike). */
export const HISTORY_PAGE_DEFAULT = 50;

/** A history request: after a seq, before one, or the newest; how many (capped at the deployment's max). */
export interface HistoryQuery {
  before?: number | undefined;
  after?: number | undefined;
  limit?: number | undefined;
}

/** The page a history request asks for, as `viewer` may see it: `after` reads forward, otherwise back from `before` (or the end). */
export function historyPage(db: Queryable, roomId: string, q: HistoryQuery, viewer: Viewer, limitMax: number): Promise<LogPage> {
  const limit = historyLimit(q.limit, limitMax);
  return q.after !== undefined ? readAfter(db, roomId, q.after, limit, viewer) : readBefore(db, roomId, q.before, limit, viewer);
}

/** How many events a history request gets: what it asked for, or the default, never past the max. */
export function historyLimit(asked: number | undefined, limitMax: number): number {
  return Math.min(asked ?? HISTORY_PAGE_DEFAULT, limitMax);
}
