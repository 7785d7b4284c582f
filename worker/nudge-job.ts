import { quietUntil } from "./quiet-hours.ts";
import { jobIds, type JobOutcome, type NudgePayload } from "./jobs.ts";
import { taskForJob, unfinishedAssignees, type JobContext } from "./job-context.ts";
import { sendNotices, stillUnfinished, type NoticeDraft } from "./notices.ts";

/**
 * A pace check at a point of a counted task's time (e.g. halfway): a student whose rate so far
 * (solved ÷ time since the task was given) is below what the rest needs (remaining ÷ time left)
 * gets one `nudge` notice, and their board row is flagged behind pace in the same transaction.
 * Quiet hours hold a nudge back (unless urgent); one that would land after the due time is dropped.
 */
export async function runNudge(ctx: JobContext, p: NudgePayload): Promise<JobOutcome> {
  const task = await taskForJob(ctx.db, p.taskId);
  if (!task || task.status !== "open" || task.target === null || task.due_at?.getTime() !== p.dueAt) return;
  const now = ctx.now();
  if (now >= p.dueAt) return;
  const target = task.target;
  const elapsed = Math.max(1, now - task.created_at.getTime());
  const left = p.dueAt - now;
  // The job's notices to the class are one change of the room log: one lock, one insert, one append.
  const drafts: NoticeDraft[] = [];
  for (const r of await unfinishedAssignees(ctx.db, task, p.userIds)) {
    const rateSoFar = r.solved / elapsed;
    const needed = (target - r.solved) / left;
    if (needed <= rateSoFar) continue;
    const until = task.urgent ? null : quietUntil(now, r);
    if (until !== null) {
      if (until >= p.dueAt) continue;
      if (p.userIds) return { deferUntil: until };
      await ctx.queue.upsert({ id: jobIds.heldNudge(p.taskId, p.checkpoint, r.userId), kind: "nudge", payload: { ...p, userIds: [r.userId] }, runAt: until });
      continue;
    }
    drafts.push({
      kind: "nudge",
      scopeId: p.taskId,
      userId: r.userId,
      windowKey: `${p.checkpoint}@${p.dueAt}`,
      roomId: task.room_id,
      body: {
        taskId: p.taskId,
        title: task.title,
        dueAt: p.dueAt,
        solved: r.solved,
        target,
        text: `${target - r.solved} to go on "${task.title}": about ${Math.ceil(((target - r.solved) / left) * 3_600_000)} an hour keeps you on time`,
      },
    });
  }
  await sendNotices(
    ctx.log,
    drafts,
    (tx, userIds) => stillUnfinished(tx, p.taskId, userIds),
    (tx, userIds) => tx.query("UPDATE task_assignees SET behind_pace = true WHERE task_id = $1 AND user_id = ANY($2::text[])", [p.taskId, userIds]).then(() => {}),
  );
}
