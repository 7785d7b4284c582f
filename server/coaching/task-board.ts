import { funnelOf, type BoardRow, type Funnel, type Page, type ProgressView, type StudentSummary, type TaskBoard, type TaskView } from "../../protocol/coaching.ts";
import type { PageQuery } from "../../protocol/coaching-schemas.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Queryable } from "../../db/db.ts";
import { membershipOf, requireRoomCoach } from "./access.ts";
import { decodeCursor, pageOf } from "./cursor.ts";
import { ASSIGNEE_COLUMNS, TASK_COLUMNS, loadTask, progressView, taskView, type AssigneeRow, type TaskRow } from "./task-store.ts";

/** A task in a list: the task, the room's funnel (coaches only) and the caller's own progress (assignees only). */
export interface TaskListItem {
  task: TaskView;
  funnel: Funnel | null;
  mine: ProgressView | null;
}

/** Microseconds since the epoch: the exact sort key of a task list (milliseconds would tie). */
const CREATED_US = "(extract(epoch FROM t.created_at) * 1000000)::bigint";

interface ListedTaskRow extends TaskRow {
  created_us: number;
}

interface BoardSourceRow extends AssigneeRow {
  display_name: string;
  behind_pace: boolean;
  last_read_seq: number | null;
}

/**
 * The coach's live board and the lists built on the same rows: per task, each assignee's state
 * and count and the funnel delivered → seen → started → done; per student, a summary across
 * tasks. "Delivered" is read off the student's read mark (it has passed the task's event) or
 * any later state. Clients keep a board live by applying task.progress events to it.
 */
export class TaskBoards {
  constructor(private readonly db: Queryable) {}

  /** Coach of the task's room only. */
  async board(userId: string, taskId: string): Promise<TaskBoard> {
    const task = await loadTask(this.db, taskId);
    await requireRoomCoach(this.db, task.room_id, userId, "TASK_NOT_FOUND");
    const rows = (await this.sourceRows([task])).get(task.id) ?? [];
    const boardRows = rows.map((r) => boardRow(r, task));
    return { task: taskView(task, rows.map((r) => r.user_id)), rows: boardRows, funnel: funnelOf(boardRows) };
  }

  /** A room's tasks, newest first. Members only; coaches get funnels, assignees their own progress. */
  async roomTasks(userId: string, roomId: string, page: PageQuery): Promise<Page<TaskListItem>> {
    const { role } = await membershipOf(this.db, roomId, userId);
    const after = decodeCursor(page.cursor, ["number", "string"]);
    const res = await this.db.query<ListedTaskRow>(
      `SELECT ${TASK_COLUMNS}, ${CREATED_US} AS created_us FROM tasks t WHERE t.room_id = $1
          AND ($2::bigint IS NULL OR (${CREATED_US}, t.id) < ($2::bigint, $3::text))
        ORDER BY t.created_at DESC, t.id DESC LIMIT $4`,
      [roomId, after?.[0] ?? null, after?.[1] ?? "", page.limit + 1],
    );
    return this.listItems(res.rows, page.limit, userId, role === "coach");
  }

  /** The caller's own tasks in the rooms they are still in, newest first. */
  async myTasks(userId: string, page: PageQuery): Promise<Page<TaskListItem>> {
    const after = decodeCursor(page.cursor, ["number", "string"]);
    const res = await this.db.query<ListedTaskRow>(
      `SELECT ${TASK_COLUMNS}, ${CREATED_US} AS created_us FROM tasks t JOIN task_assignees a ON a.task_id = t.id AND a.user_id = $1
         JOIN memberships m ON m.room_id = t.room_id AND m.user_id = $1
        WHERE ($2::bigint IS NULL OR (${CREATED_US}, t.id) < ($2::bigint, $3::text))
        ORDER BY t.created_at DESC, t.id DESC LIMIT $4`,
      [userId, after?.[0] ?? null, after?.[1] ?? "", page.limit + 1],
    );
    return this.listItems(res.rows, page.limit, userId, false);
  }

  /** One student's record in a room: the student themself or the room's coach. Cancelled tasks do not count. */
  async studentSummary(userId: string, roomId: string, studentId: string): Promise<StudentSummary> {
    // The caller first (ROOM_NOT_FOUND / NOT_A_MEMBER / FORBIDDEN), then the student asked about.
    if (userId !== studentId) await requireRoomCoach(this.db, roomId, userId);
    const student = await membershipOf(this.db, roomId, studentId).catch((err) => {
      if (userId === studentId) throw err;
      return undefined;
    });
    if (student?.role !== "student") throw new CoachwireError("NOT_FOUND", `${studentId} is not a student of this room`);
    const res = await this.db.query<AssigneeRow & { target: number | null; due_at: Date | null }>(
      `SELECT ${ASSIGNEE_COLUMNS}, t.target, t.due_at FROM task_assignees a JOIN tasks t ON t.id = a.task_id
        WHERE t.room_id = $1 AND a.user_id = $2 AND t.status = 'open'`,
      [roomId, studentId],
    );
    const now = Date.now();
    const summary: StudentSummary = { userId: studentId, roomId, assigned: res.rows.length, open: 0, doneOnTime: 0, doneLate: 0, overdue: 0, averageCompletion: 0 };
    let completion = 0;
    for (const r of res.rows) {
      const late = r.done_at !== null && r.due_at !== null && r.done_at > r.due_at;
      if (r.state === "done") {
        if (late) summary.doneLate++;
        else summary.doneOnTime++;
      } else if (r.due_at !== null && r.due_at.getTime() < now) summary.overdue++;
      else summary.open++;
      completion += r.state === "done" ? 1 : r.target ? Math.min(1, r.solved / r.target) : 0;
    }
    summary.averageCompletion = res.rows.length === 0 ? 0 : Math.round((completion / res.rows.length) * 1000) / 1000;
    return summary;
  }

  private async listItems(rows: ListedTaskRow[], limit: number, userId: string, coach: boolean): Promise<Page<TaskListItem>> {
    const shown = rows.slice(0, limit);
    const sources = await this.sourceRows(shown);
    const page = pageOf(
      rows,
      limit,
      (t) => {
        const rs = sources.get(t.id) ?? [];
        const mine = rs.find((r) => r.user_id === userId);
        return {
          task: taskView(t, rs.map((r) => r.user_id)),
          funnel: coach ? funnelOf(rs.map((r) => boardRow(r, t))) : null,
          mine: mine ? progressView(mine, t.due_at) : null,
        };
      },
      (t) => [t.created_us, t.id],
    );
    return page;
  }

  /** Assignee rows with display names and read marks, per task. */
  private async sourceRows(tasks: TaskRow[]): Promise<Map<string, BoardSourceRow[]>> {
    const byTask = new Map<string, BoardSourceRow[]>(tasks.map((t) => [t.id, []]));
    if (tasks.length === 0) return byTask;
    const res = await this.db.query<BoardSourceRow>(
      `SELECT ${ASSIGNEE_COLUMNS}, a.behind_pace, u.display_name, m.last_read_seq
         FROM task_assignees a JOIN tasks t ON t.id = a.task_id JOIN users u ON u.id = a.user_id
         LEFT JOIN memberships m ON m.room_id = t.room_id AND m.user_id = a.user_id
        WHERE a.task_id = ANY($1::text[]) ORDER BY a.task_id, u.display_name, a.user_id`,
      [tasks.map((t) => t.id)],
    );
    for (const r of res.rows) byTask.get(r.task_id)?.push(r);
    return byTask;
  }
}

function boardRow(r: BoardSourceRow, task: TaskRow): BoardRow {
  const progress = progressView(r, task.due_at);
  return {
    ...progress,
    displayName: r.display_name,
    delivered: r.state !== "assigned" || (r.last_read_seq ?? 0) >= task.created_seq,
    overdue: r.state !== "done" && task.due_at !== null && task.due_at.getTime() < Date.now(),
    behindPace: r.behind_pace,
  };
}
