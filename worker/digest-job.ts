import { localDate, nextLocalHour, quietUntil } from "./quiet-hours.ts";
import { jobIds, type DigestPayload, type JobOutcome } from "./jobs.ts";
import { RECIPIENT_COLUMNS, type JobContext, type Recipient } from "./job-context.ts";
import { sendNotice } from "./notices.ts";

interface RoomTally {
  room_id: string;
  done_on_time: number;
  done_late: number;
  overdue: number;
  open: number;
}

/**
 * A coach's daily digest: for each room they coach that has open tasks, how many assignments
 * were done on time, done late, are overdue or still open, and the least active students (fewest
 * progress reports in the last 24 h). Each room's digest is a `digest` notice in that room's log
 * (stored once per coach, room and local day), then the next day's digest is planned.
 */
export async function runDigest(ctx: JobContext, p: DigestPayload): Promise<JobOutcome> {
  const coach = (await ctx.db.query<Recipient>(`SELECT ${RECIPIENT_COLUMNS}, 0 AS solved FROM users u WHERE u.id = $1`, [p.coachId])).rows[0];
  if (!coach) return;
  const now = ctx.now();
  const until = quietUntil(now, coach);
  if (until !== null) {
    if (p.held) return { deferUntil: until };
    await ctx.queue.upsert({ id: `${jobIds.digest(p.coachId, p.day)}:held`, kind: "digest", payload: { ...p, held: true }, runAt: until });
    return;
  }
  const tallies = await ctx.db.query<RoomTally>(
    `SELECT t.room_id,
            count(*) FILTER (WHERE a.state = 'done' AND (t.due_at IS NULL OR a.done_at <= t.due_at))::int AS done_on_time,
            count(*) FILTER (WHERE a.state = 'done' AND a.done_at > t.due_at)::int AS done_late,
            count(*) FILTER (WHERE a.state <> 'done' AND t.due_at < now())::int AS overdue,
            count(*) FILTER (WHERE a.state <> 'done' AND (t.due_at IS NULL OR t.due_at >= now()))::int AS open
       FROM memberships m JOIN tasks t ON t.room_id = m.room_id AND t.status = 'open'
       JOIN task_assignees a ON a.task_id = t.id
      WHERE m.user_id = $1 AND m.role = 'coach'
      GROUP BY t.room_id ORDER BY t.room_id`,
    [p.coachId],
  );
  for (const tally of tallies.rows) {
    const leastActive = await ctx.db.query<{ userId: string; displayName: string; reports: number }>(
      `SELECT u.id AS "userId", u.display_name AS "displayName",
              (SELECT count(*)::int FROM room_events e WHERE e.room_id = m.room_id AND e.kind = 'task.progress'
                 AND e.sender_id = m.user_id AND e.created_at > now() - interval '24 hours') AS reports
         FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.room_id = $1 AND m.role = 'student' ORDER BY reports, u.display_name, u.id LIMIT 3`,
      [tally.room_id],
    );
    const { room_id: roomId, done_on_time: doneOnTime, done_late: doneLate, overdue, open } = tally;
    await sendNotice(ctx.log, {
      kind: "digest",
      scopeId: roomId,
      userId: p.coachId,
      windowKey: p.day,
      roomId,
      body: {
        day: p.day,
        doneOnTime,
        doneLate,
        overdue,
        open,
        leastActive: leastActive.rows,
        text: `${p.day}: ${doneOnTime} on time, ${doneLate} late, ${overdue} overdue, ${open} open`,
      },
    });
  }
  // The next day's digest, while there is something to report (a task change plans it again
  // otherwise). From a minute on, so a digest that ran a little early does not plan itself again.
  if (tallies.rows.length > 0) await planDigest(ctx.queue, p.coachId, coach.timeZone, ctx.digestHour, now + 60_000);
}

/** Plans the coach's next digest (at the digest hour, local time); planning it again changes nothing. */
export async function planDigest(queue: JobContext["queue"], coachId: string, timeZone: string, hour: number, now: number): Promise<void> {
  const next = nextLocalHour(now, timeZone, hour);
  // The day a digest covers is the local date it runs on.
  const day = localDate(next.at, timeZone);
  await queue.upsert({ id: jobIds.digest(coachId, day), kind: "digest", payload: { coachId, day }, runAt: next.at });
}
