import type { Db } from "../db/db.ts";
import type { RoomLogWriter } from "../server/log/log-transaction.ts";
import type { MailTransport } from "../server/mail/mail-transport.ts";
import type { JobQueue } from "./jobs.ts";
import type { QuietHours } from "./quiet-hours.ts";

/** What a job handler gets: the database, the process's room-log writer (notices go through it), and the queue (to hold a notice back). */
export interface JobContext {
  db: Db;
  /** The one write path of the room log in this process; its sink is the fan-out. */
  log: RoomLogWriter;
  queue: JobQueue;
  now(): number;
  /** Local hour of the coaches' daily digest (and of the parents' weekly one). */
  digestHour: number;
  /** Local weekday of the parents' weekly digest, 0 = Sunday (default 0). */
  parentDigestWeekday?: number;
  /** How mail jobs deliver (absent where no mail is sent, e.g. some tests). */
  mail?: MailContext;
}

/** What the mail job needs: the SMTP transport (none: mail stays in the outbox and its link goes to the log). */
export interface MailContext {
  transport: MailTransport | undefined;
  from: string;
  /** Tries before a mail is marked failed (the runner's own attempt limit). */
  maxAttempts: number;
  /** Told about each mail kept in the outbox (the embedded server logs its link). */
  kept(mail: { to: string; subject: string; link: string | null }): void;
}

export interface TaskForJob {
  id: string;
  target: number | null;
  created_at: Date;
  room_id: string;
  created_by: string;
  title: string;
  status: "open" | "cancelled";
  due_at: Date | null;
  urgent: boolean;
}

/** The task as a job sees it, or undefined when it no longer exists. */
export async function taskForJob(db: Db, taskId: string): Promise<TaskForJob | undefined> {
  const res = await db.query<TaskForJob>("SELECT id, room_id, created_by, title, target, created_at, status, due_at, urgent FROM tasks WHERE id = $1", [taskId]);
  return res.rows[0];
}

export interface Recipient extends QuietHours {
  userId: string;
  displayName: string;
  solved: number;
}

export const RECIPIENT_COLUMNS =
  "u.id AS \"userId\", u.display_name AS \"displayName\", u.time_zone AS \"timeZone\", u.quiet_start_min AS \"startMin\", u.quiet_end_min AS \"endMin\"";

/** The task's assignees who are not done and still in its room (only `userIds`, when given), with their quiet hours. */
export async function unfinishedAssignees(db: Db, task: TaskForJob, userIds: string[] | undefined): Promise<Recipient[]> {
  const res = await db.query<Recipient>(
    `SELECT ${RECIPIENT_COLUMNS}, a.solved FROM task_assignees a JOIN users u ON u.id = a.user_id
      JOIN memberships m ON m.room_id = $2 AND m.user_id = a.user_id
      WHERE a.task_id = $1 AND a.state <> 'done' AND ($3::text[] IS NULL OR a.user_id = ANY($3::text[]))
      ORDER BY u.id`,
    [task.id, task.room_id, userIds ?? null],
  );
  return res.rows;
}
