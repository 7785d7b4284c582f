import { quietUntil } from "./quiet-hours.ts";
import { jobIds, type JobOutcome, type OverduePayload } from "./jobs.ts";
import { RECIPIENT_COLUMNS, taskForJob, type JobContext, type Recipient } from "./job-context.ts";
import { sendNotice } from "./notices.ts";

/**
 * At the due time: one `overdue` notice to the task's coach listing who missed it (nothing when
 * everyone finished). Held back by the coach's quiet hours unless the task is urgent.
 */
export async function runOverdue(ctx: JobContext, p: OverduePayload): Promise<JobOutcome> {
  const task = await taskForJob(ctx.db, p.taskId);
  if (!task || task.status !== "open" || task.due_at?.getTime() !== p.dueAt) return;
  const missed = await ctx.db.query<{ userId: string; displayName: string; solved: number }>(
    `SELECT u.id AS "userId", u.display_name AS "displayName", a.solved FROM task_assignees a JOIN users u ON u.id = a.user_id
      WHERE a.task_id = $1 AND a.state <> 'done' ORDER BY u.display_name, u.id`,
    [p.taskId],
  );
  if (missed.rows.length === 0) return;
  const coach = await ctx.db.query<Recipient>(`SELECT ${RECIPIENT_COLUMNS} FROM users u WHERE u.id = $1`, [task.created_by]);
  if (!coach.rows[0]) return;
  const until = task.urgent ? null : quietUntil(ctx.now(), coach.rows[0]);
  if (until !== null) {
    if (p.held) return { deferUntil: until };
    await ctx.queue.upsert({ id: jobIds.heldOverdue(p.taskId), kind: "overdue", payload: { ...p, held: true }, runAt: until });
    return;
  }
  await sendNotice(ctx.log, {
    kind: "overdue",
    scopeId: p.taskId,
    userId: task.created_by,
    windowKey: String(p.dueAt),
    roomId: task.room_id,
    body: { taskId: p.taskId, title: task.title, dueAt: p.dueAt, missed: missed.rows, text: `${missed.rows.length} missed "${task.title}"` },
  });
}
