import { quietUntil } from "./quiet-hours.ts";
import { jobIds, type JobOutcome, type ReminderPayload } from "./jobs.ts";
import { taskForJob, unfinishedAssignees, type JobContext } from "./job-context.ts";
import { sendNotices, stillUnfinished, type NoticeDraft } from "./notices.ts";

/**
 * A due reminder: every assignee who is not done gets one `reminder` notice for this offset and
 * due time. An assignee inside their quiet hours is held back until the window ends (unless the
 * task is urgent); a reminder that would land after the due time is dropped (the overdue notice
 * covers that). A job planned for another due time, or for a cancelled task, does nothing.
 */
export async function runReminder(ctx: JobContext, p: ReminderPayload): Promise<JobOutcome> {
  const task = await taskForJob(ctx.db, p.taskId);
  if (!task || task.status !== "open" || task.due_at?.getTime() !== p.dueAt) return;
  const now = ctx.now();
  if (now >= p.dueAt) return;
  // The job's notices to the class are one change of the room log: one lock, one insert, one append.
  const drafts: NoticeDraft[] = [];
  for (const r of await unfinishedAssignees(ctx.db, task, p.userIds)) {
    const until = task.urgent ? null : quietUntil(now, r);
    if (until !== null) {
      if (until >= p.dueAt) continue;
      // A held job (one user) waits again itself; the planned job holds each quiet user back in a job of their own.
      if (p.userIds) return { deferUntil: until };
      await ctx.queue.upsert({ id: jobIds.heldReminder(p.taskId, p.offsetMs, r.userId), kind: "reminder", payload: { ...p, userIds: [r.userId] }, runAt: until });
      continue;
    }
    const minutes = Math.round((p.dueAt - now) / 60_000);
    drafts.push({
      kind: "reminder",
      scopeId: p.taskId,
      userId: r.userId,
      windowKey: `${p.offsetMs}@${p.dueAt}`,
      roomId: task.room_id,
      body: { taskId: p.taskId, title: task.title, dueAt: p.dueAt, text: `"${task.title}" is due in ${minutes} min` },
    });
  }
  await sendNotices(ctx.log, drafts, (tx, userIds) => stillUnfinished(tx, p.taskId, userIds));
}
