import type { MemberRole } from "../../protocol/events.ts";
import type { Queryable } from "../../db/db.ts";
import { BatchLoader } from "../batching/batch-loader.ts";
import { EVENT_COLUMNS, rowToEvent } from "../log/append.ts";

type EventRow = Parameters<typeof rowToEvent>[0];

/** One member's row of a room as a join reads it; null role: not a member. */
export interface HeadRow {
  lastSeq: number;
  role: MemberRole | null;
  lastReadSeq: number;
}

/** How long a join's reads wait for other joins' company, and the largest batch. */
export interface JoinReadOptions {
  waitMs: number;
  maxBatch: number;
  /** Told after each batched query: which read, and how many distinct keys it answered. */
  onLoad?(read: "head" | "backlog", keys: number): void;
}

const SEP = "\t";

/**
 * The two reads of a join (room:join, and each room of rooms:resume), batched across every
 * socket joining in the same few milliseconds. A reconnect storm brings thousands of joins a
 * second, most of them for the same few hundred rooms and, within a room, from the same seq:
 * - heads: one query for every (room, member) pair of the batch: the room's last seq, the
 *   member's role and read mark;
 * - backlogs: one query for the batch in which each distinct (room, since) pair is ONE indexed
 *   range scan (a LATERAL subquery on room_events' (room_id, seq) key), shared by every socket
 *   that asked for it — or the newest events of the room for a join without `since`.
 * Rows are shared; each caller applies its own viewer's redaction.
 */
export class JoinReads {
  private readonly heads: BatchLoader<string, HeadRow>;
  private readonly backlogs: BatchLoader<string, EventRow[]>;

  constructor(
    private readonly db: Queryable,
    private readonly limits: { backlogMax: number; recent: number },
    options: JoinReadOptions,
  ) {
    const batch = { waitMs: options.waitMs, maxBatch: options.maxBatch };
    // Each batched query is reported (metrics) once it has answered.
    const counted =
      <V>(read: "head" | "backlog", load: (keys: string[]) => Promise<Map<string, V>>) =>
      async (keys: string[]) => {
        const values = await load(keys);
        options.onLoad?.(read, keys.length);
        return values;
      };
    this.heads = new BatchLoader(counted("head", (keys) => this.loadHeads(keys)), batch);
    this.backlogs = new BatchLoader(counted("backlog", (keys) => this.loadBacklogs(keys)), batch);
  }

  /** The room's head for this member as committed now; undefined when the room does not exist. */
  head(roomId: string, userId: string): Promise<HeadRow | undefined> {
    return this.heads.get(roomId + SEP + userId);
  }

  /**
   * Events after `since` (at most backlogMax + 1, ascending: one more than a page says there is
   * more), or without `since` the newest `recent` + 1 (ascending).
   */
  async backlog(roomId: string, since: number | undefined): Promise<EventRow[]> {
    return (await this.backlogs.get(roomId + SEP + (since ?? "recent"))) ?? [];
  }

  private async loadHeads(keys: string[]): Promise<Map<string, HeadRow>> {
    const pairs = keys.map((k) => k.split(SEP) as [string, string]);
    const res = await this.db.query<{ room_id: string; user_id: string; last_seq: number; role: MemberRole | null; last_read_seq: number | null }>(
      `SELECT q.room_id, q.user_id, r.last_seq, m.role, m.last_read_seq
         FROM unnest($1::text[], $2::text[]) AS q(room_id, user_id)
         JOIN rooms r ON r.id = q.room_id
         LEFT JOIN memberships m ON m.room_id = q.room_id AND m.user_id = q.user_id`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
    return new Map(res.rows.map((r) => [r.room_id + SEP + r.user_id, { lastSeq: r.last_seq, role: r.role, lastReadSeq: r.last_read_seq ?? 0 }]));
  }

  private async loadBacklogs(keys: string[]): Promise<Map<string, EventRow[]>> {
    const after: Array<[key: string, roomId: string, since: number]> = [];
    const recent: Array<[key: string, roomId: string]> = [];
    for (const key of keys) {
      const [roomId, since] = key.split(SEP) as [string, string];
      if (since === "recent") recent.push([key, roomId]);
      else after.push([key, roomId, Number(since)]);
    }
    const columns = EVENT_COLUMNS.split(", ").map((c) => `e.${c}`).join(", ");
    const [forward, newest] = await Promise.all([
      after.length === 0
        ? { rows: [] }
        : this.db.query<EventRow & { k: string }>(
            `SELECT q.k, ${columns}
               FROM unnest($1::text[], $2::text[], $3::bigint[]) AS q(k, room_id, after)
               CROSS JOIN LATERAL (
                 SELECT ${EVENT_COLUMNS} FROM room_events
                  WHERE room_id = q.room_id AND seq > q.after ORDER BY seq ASC LIMIT $4
               ) e`,
            [after.map((a) => a[0]), after.map((a) => a[1]), after.map((a) => a[2]), this.limits.backlogMax + 1],
          ),
      recent.length === 0
        ? { rows: [] }
        : this.db.query<EventRow & { k: string }>(
            `SELECT q.k, ${columns}
               FROM unnest($1::text[], $2::text[]) AS q(k, room_id)
               CROSS JOIN LATERAL (
                 SELECT ${EVENT_COLUMNS} FROM room_events
                  WHERE room_id = q.room_id ORDER BY seq DESC LIMIT $3
               ) e`,
            [recent.map((r) => r[0]), recent.map((r) => r[1]), this.limits.recent + 1],
          ),
    ]);
    const byKey = new Map<string, EventRow[]>();
    for (const row of [...forward.rows, ...newest.rows]) {
      let rows = byKey.get(row.k);
      if (!rows) byKey.set(row.k, (rows = []));
      rows.push(row);
    }
    // Each key's rows in ascending seq, whatever order the rows came back in.
    for (const rows of byKey.values()) rows.sort((a, b) => a.seq - b.seq);
    return byKey;
  }
}
