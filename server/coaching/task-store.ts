import type { ProgressState, ProgressView, TaskStatus, TaskView } from "../../protocol/coaching.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Queryable } from "../../db/db.ts";

/** Reading tasks and assignee rows in their wire shapes (shared by the task, progress and board code). */

export interface TaskRow {
  id: string;
  room_id: string;
  created_by: string;
  title: string;
  details: string;
  subject_id: string | null;
  target: number | null;
  due_at: Date | null;
  urgent: boolean;
  assign_all: boolean;
  status: TaskStatus;
  created_seq: number;
  created_at: Date;
}

export interface AssigneeRow {
  task_id: string;
  user_id: string;
  state: ProgressState;
  solved: number;
  correct: number;
  wrong: number;
  seen_at: Date | null;
  started_at: Date | null;
  done_at: Date | null;
}

export const TASK_COLUMNS =
  "t.id, t.room_id, t.created_by, t.title, t.details, t.subject_id, t.target, t.due_at, t.urgent, t.assign_all, t.status, t.created_seq, t.created_at";
export const ASSIGNEE_COLUMNS = "a.task_id, a.user_id, a.state, a.solved, a.correct, a.wrong, a.seen_at, a.started_at, a.done_at";

const ms = (d: Date | null) => (d ? d.getTime() : null);

export function taskView(row: TaskRow, assignees: string[]): TaskView {
  return {
    id: row.id,
    roomId: row.room_id,
    title: row.title,
    details: row.details,
    subjectId: row.subject_id,
    target: row.target,
    dueAt: ms(row.due_at),
    urgent: row.urgent,
    assignAll: row.assign_all,
    assignees,
    status: row.status,
    createdBy: row.created_by,
    createdSeq: row.created_seq,
    createdAt: row.created_at.getTime(),
  };
}

export function progressView(row: AssigneeRow, dueAt: Date | null): ProgressView {
  return {
    taskId: row.task_id,
    userId: row.user_id,
    state: row.state,
    solved: row.solved,
    correct: row.correct,
    wrong: row.wrong,
    late: row.done_at !== null && dueAt !== null && row.done_at > dueAt,
    seenAt: ms(row.seen_at),
    startedAt: ms(row.started_at),
    doneAt: ms(row.done_at),
  };
}

/** The task row, or TASK_NOT_FOUND. */
export async function loadTask(q: Queryable, taskId: string): Promise<TaskRow> {
  const res = await q.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks t WHERE t.id = $1`, [taskId]);
  if (!res.rows[0]) throw new CoachwireError("TASK_NOT_FOUND");
  return res.rows[0];
}

/** Assignee ids per task, for a set of tasks. */
export async function assigneesOf(q: Queryable, taskIds: string[]): Promise<Map<string, string[]>> {
  const byTask = new Map<string, string[]>(taskIds.map((id) => [id, []]));
  if (taskIds.length === 0) return byTask;
  const res = await q.query<{ task_id: string; user_id: string }>(
    "SELECT task_id, user_id FROM task_assignees WHERE task_id = ANY($1::text[]) ORDER BY task_id, user_id",
    [taskIds],
  );
  for (const r of res.rows) byTask.get(r.task_id)?.push(r.user_id);
  return byTask;
}

/** The task in wire shape, with its assignees. */
export async function loadTaskView(q: Queryable, taskId: string): Promise<TaskView> {
  const row = await loadTask(q, taskId);
  return taskView(row, (await assigneesOf(q, [taskId])).get(taskId) ?? []);
}
