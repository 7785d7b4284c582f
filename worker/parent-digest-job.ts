import { Outbox } from "../server/mail/outbox.ts";
import { jobIds, type JobOutcome, type JobQueue, type ParentDigestPayload } from "./jobs.ts";
import type { JobContext } from "./job-context.ts";
import { localDate, nextLocalHour } from "./quiet-hours.ts";

const WEEK_MS = 7 * 86_400_000;

/** One child's week, as the parent's digest tells it. */
export interface ChildWeek {
  studentId: string;
  displayName: string;
  /** Open tasks assigned to the child (cancelled ones do not count). */
  assigned: number;
  doneThisWeek: number;
  overdue: number;
  open: number;
}

/**
 * A parent's weekly digest: for each of their children, tasks done in the last seven days,
 * overdue and still open — never chat, never classmates. Stored once per parent and week (the
 * parent_digests natural key; the week is named by the local date it goes out on), mailed once
 * (the mail's natural key) in the same transaction, then next week's digest is planned while the
 * parent still has a child.
 */
export async function runParentDigest(ctx: JobContext, p: ParentDigestPayload): Promise<JobOutcome> {
  const parent = (
    await ctx.db.query<{ email: string | null; display_name: string; time_zone: string; institution_id: string; status: string }>(
      "SELECT email, display_name, time_zone, institution_id, status FROM users WHERE id = $1 AND role = 'parent'",
      [p.parentId],
    )
  ).rows[0];
  if (!parent || parent.status !== "active") return;
  const now = ctx.now();
  const children = await ctx.db.query<ChildWeek>(
    `SELECT g.student_id AS "studentId", u.display_name AS "displayName",
            count(a.task_id)::int AS assigned,
            count(a.task_id) FILTER (WHERE a.state = 'done' AND a.done_at > $2)::int AS "doneThisWeek",
            count(a.task_id) FILTER (WHERE a.state <> 'done' AND t.due_at < $3)::int AS overdue,
            count(a.task_id) FILTER (WHERE a.state <> 'done' AND (t.due_at IS NULL OR t.due_at >= $3))::int AS open
       FROM guardianships g JOIN users u ON u.id = g.student_id
       LEFT JOIN (task_assignees a JOIN tasks t ON t.id = a.task_id AND t.status = 'open'
                  JOIN memberships m ON m.room_id = t.room_id AND m.user_id = a.user_id) ON a.user_id = g.student_id
      WHERE g.parent_id = $1
      GROUP BY g.student_id, u.display_name ORDER BY u.display_name, g.student_id`,
    [p.parentId, new Date(now - WEEK_MS), new Date(now)],
  );
  if (children.rows.length === 0) return;
  const lines = children.rows.map((c) => `${c.displayName}: ${c.doneThisWeek} done this week, ${c.overdue} overdue, ${c.open} open`);
  const body = { week: p.week, children: children.rows, text: lines.join("\n") };
  const naturalKey = `parent-digest:${p.parentId}:${p.week}`;
  const mailed = await ctx.db.transaction(async (tx) => {
    const stored = await tx.query("INSERT INTO parent_digests (parent_id, week, body) VALUES ($1, $2, $3) ON CONFLICT (parent_id, week) DO NOTHING RETURNING id", [
      p.parentId,
      p.week,
      JSON.stringify(body),
    ]);
    if (stored.rows.length === 0 || parent.email === null) return false;
    await Outbox.queue(tx, {
      naturalKey,
      institutionId: parent.institution_id,
      to: parent.email,
      subject: `Your weekly coachwire digest (${p.week})`,
      text: `Hello ${parent.display_name},\n\n${body.text}\n`,
      link: null,
    });
    return true;
  });
  // The mail job sends it (once: the job id is the mail's natural key).
  if (mailed) await ctx.queue.upsert({ id: jobIds.mail(naturalKey), kind: "mail", payload: { naturalKey }, runAt: now });
  await planParentDigest(ctx.queue, p.parentId, parent.time_zone, ctx.digestHour, ctx.parentDigestWeekday ?? 0, now + 60_000);
}

/** Plans the parent's next weekly digest (the digest hour, local time, on the weekday); planning it again changes nothing. */
export async function planParentDigest(queue: JobQueue, parentId: string, timeZone: string, hour: number, weekday: number, now: number): Promise<void> {
  let next = nextLocalHour(now, timeZone, hour);
  for (let i = 0; i < 7 && localWeekday(next.at, timeZone) !== weekday; i++) next = nextLocalHour(next.at, timeZone, hour);
  const week = localDate(next.at, timeZone);
  await queue.upsert({ id: jobIds.parentDigest(parentId, week), kind: "parent-digest", payload: { parentId, week }, runAt: next.at });
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** 0 (Sunday) to 6 in the zone (an unknown zone reads as UTC). */
function localWeekday(at: number, timeZone: string): number {
  let name: string;
  try {
    name = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short" }).format(at);
  } catch {
    name = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", weekday: "short" }).format(at);
  }
  return WEEKDAYS.indexOf(name);
}
