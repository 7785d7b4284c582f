import type { TaskView } from "../protocol/coaching.ts";
import type { Db } from "../db/db.ts";
import { planDigest } from "./digest-job.ts";
import { KeyedQueue } from "../server/keyed-queue.ts";
import { jobIds, type JobQueue, type JobSpec } from "./jobs.ts";

/** When notices fire, per deployment (COACHWIRE_REMINDER_OFFSETS_MIN, COACHWIRE_NUDGE_CHECKPOINTS, COACHWIRE_DIGEST_HOUR). */
export interface NoticePlanOptions {
  reminderOffsetsMs: readonly number[];
  /** Fractions of a counted task's time at which pace is checked, e.g. [0.5, 0.75]. */
  nudgeCheckpoints: readonly number[];
  digestHour: number;
}

/**
 * The jobs a task needs: a reminder per offset before the due time, a pace check per checkpoint
 * (counted tasks only), and the overdue notice at the due time — each only if still ahead.
 * Planning again (an edit) replaces them by id; a cancelled task, or one without a due time, has none.
 */
export function planTask(task: TaskView, options: NoticePlanOptions, now: number): JobSpec[] {
  if (task.status !== "open" || task.dueAt === null) return [];
  const dueAt = task.dueAt;
  const jobs: JobSpec[] = options.reminderOffsetsMs
    .filter((offsetMs) => dueAt - offsetMs > now)
    .map((offsetMs) => ({ id: jobIds.reminder(task.id, offsetMs), kind: "reminder", payload: { taskId: task.id, offsetMs, dueAt }, runAt: dueAt - offsetMs }));
  if (task.target !== null) {
    for (const checkpoint of options.nudgeCheckpoints) {
      const runAt = Math.round(task.createdAt + (dueAt - task.createdAt) * checkpoint);
      if (runAt > now) jobs.push({ id: jobIds.nudge(task.id, checkpoint), kind: "nudge", payload: { taskId: task.id, dueAt, checkpoint }, runAt });
    }
  }
  if (dueAt > now) jobs.push({ id: jobIds.overdue(task.id), kind: "overdue", payload: { taskId: task.id, dueAt }, runAt: dueAt });
  return jobs;
}

/**
 * Applies a task change to the queue: every job id the task could have is removed unless the new
 * plan has it — after an edit or a cancel also the copies held back for quiet hours — then the
 * plan is added, and the coach's next daily digest is planned.
 */
export async function scheduleTask(
  queue: JobQueue,
  db: Db,
  task: TaskView,
  options: NoticePlanOptions,
  change: "created" | "updated" | "cancelled",
  now = Date.now(),
): Promise<void> {
  const plan = planTask(task, options, now);
  const planned = new Set(plan.map((j) => j.id));
  const every = [
    ...options.reminderOffsetsMs.map((o) => jobIds.reminder(task.id, o)),
    ...options.nudgeCheckpoints.map((c) => jobIds.nudge(task.id, c)),
    jobIds.overdue(task.id),
  ];
  if (change !== "created") {
    // A new task has nothing held back yet; a changed one may have, per assignee.
    const assignees = await db.query<{ user_id: string }>("SELECT user_id FROM task_assignees WHERE task_id = $1", [task.id]);
    for (const { user_id: userId } of assignees.rows) {
      every.push(...options.reminderOffsetsMs.map((o) => jobIds.heldReminder(task.id, o, userId)));
      every.push(...options.nudgeCheckpoints.map((c) => jobIds.heldNudge(task.id, c, userId)));
    }
    every.push(jobIds.heldOverdue(task.id));
  }
  for (const id of every) if (!planned.has(id)) await queue.remove(id);
  for (const job of plan) await queue.upsert(job);
  if (task.status === "open") {
    const coach = await db.query<{ time_zone: string }>("SELECT time_zone FROM users WHERE id = $1", [task.createdBy]);
    if (coach.rows[0]) await planDigest(queue, task.createdBy, coach.rows[0].time_zone, options.digestHour, now);
  }
}

/**
 * Schedules task changes one at a time per task, in the order they committed, so a quick
 * create-then-edit cannot apply the older plan last. Failures go to `onError`.
 */
export class TaskScheduler {
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly jobs: JobQueue,
    private readonly db: Db,
    private readonly options: NoticePlanOptions,
    private readonly onError: (err: unknown, task: TaskView) => void,
  ) {}

  /**
   * Plans against the moment the change was made, not the moment the queue gets to it: a new task
   * from its creation time, a change from when it committed. A reminder whose time passed while the
   * change waited to commit (a busy server) is still planned, and runs at once.
   */
  schedule(task: TaskView, change: "created" | "updated" | "cancelled"): Promise<void> {
    const decidedAt = change === "created" ? Math.min(task.createdAt, Date.now()) : Date.now();
    return this.queue.run(task.id, () => scheduleTask(this.jobs, this.db, task, this.options, change, decidedAt).catch((err) => this.onError(err, task)));
  }

  /** Waits for every scheduling in flight (drain). */
  idle(): Promise<void> {
    return this.queue.idle();
  }
}
