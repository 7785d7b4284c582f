import type { ProgressView, TaskView } from "../../../protocol/coaching.ts";

/** How a task stands against its due time, for the mark beside it. */
export type DueStatus = "none" | "upcoming" | "soon" | "overdue" | "doneOnTime" | "doneLate" | "cancelled";

const SOON_MS = 24 * 3600_000;

/** The mark for a task and the reader's progress on it (null: not an assignee). */
export function dueStatus(task: TaskView, mine: ProgressView | null, now: number): DueStatus {
  if (task.status === "cancelled") return "cancelled";
  if (mine?.state === "done") return mine.late ? "doneLate" : "doneOnTime";
  if (task.dueAt === null) return "none";
  if (task.dueAt < now) return "overdue";
  return task.dueAt - now < SOON_MS ? "soon" : "upcoming";
}

/** Solved as a share of the target, 0..1 (a task without a target: done or not). */
export function completion(task: TaskView, mine: ProgressView | null): number {
  if (!mine) return 0;
  if (task.target === null) return mine.state === "done" ? 1 : 0;
  return Math.min(1, mine.solved / task.target);
}
