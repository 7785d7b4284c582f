import type { NoticeKind, Page } from "../../protocol/coaching.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Db } from "../../db/db.ts";
import { decodeCursor, pageOf } from "./cursor.ts";



export interface NoticeView {
  id: number;
  kind: NoticeKind;
  roomId: string;
  /** The notice's event in the room log. */
  seq: number;
  body: Record<string, unknown>;
  createdAt: number;
}

export interface UserSettings {
  timeZone: string;
  /** Local "HH:MM"; notices that fall between start and end wait until end (start = end: no quiet hours). */
  quietHours: { start: string; end: string };
}

const hhmm = (min: number) => `${String(Math.floor(min / 60)).padStart(2, "0")}:${String(min % 60).padStart(2, "0")}`;
const minutes = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

/**
 * What the worker sent a user (reminders, nudges, overdue notices, digests), newest first, and
 * the user's own notice settings: time zone and quiet hours.
 */
export class NoticeInbox {
  constructor(private readonly db: Db) {}

  async list(userId: string, kind: NoticeKind | undefined, page: { limit: number; cursor?: string | undefined }): Promise<Page<NoticeView>> {
    const after = decodeCursor(page.cursor, ["number"]);
    const res = await this.db.query<{ id: number; kind: NoticeKind; room_id: string; seq: number; body: Record<string, unknown>; created_at: Date }>(
      `SELECT id, kind, room_id, seq, body, created_at FROM notices
        WHERE user_id = $1 AND ($2::text IS NULL OR kind = $2) AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4`,
      [userId, kind ?? null, after?.[0] ?? null, page.limit + 1],
    );
    return pageOf(
      res.rows,
      page.limit,
      (r) => ({ id: r.id, kind: r.kind, roomId: r.room_id, seq: r.seq, body: r.body, createdAt: r.created_at.getTime() }),
      (r) => [r.id],
    );
  }

  async settings(userId: string): Promise<UserSettings> {
    const res = await this.db.query<{ time_zone: string; quiet_start_min: number; quiet_end_min: number }>(
      "SELECT time_zone, quiet_start_min, quiet_end_min FROM users WHERE id = $1",
      [userId],
    );
    const row = res.rows[0];
    if (!row) throw new CoachwireError("NOT_FOUND");
    return { timeZone: row.time_zone, quietHours: { start: hhmm(row.quiet_start_min), end: hhmm(row.quiet_end_min) } };
  }

  /** The caller validated the zone name and the HH:MM times. */
  async updateSettings(userId: string, change: Partial<UserSettings>): Promise<UserSettings> {
    await this.db.query(
      `UPDATE users SET time_zone = coalesce($2, time_zone), quiet_start_min = coalesce($3, quiet_start_min),
              quiet_end_min = coalesce($4, quiet_end_min) WHERE id = $1`,
      [userId, change.timeZone ?? null, change.quietHours ? minutes(change.quietHours.start) : null, change.quietHours ? minutes(change.quietHours.end) : null],
    );
    return this.settings(userId);
  }
}
