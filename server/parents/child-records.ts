import type { Page, ProgressView, StudentSummary, TaskView } from "../../protocol/coaching.ts";
import type { PageQuery } from "../../protocol/coaching-schemas.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Queryable } from "../../db/db.ts";
import { decodeCursor, pageOf } from "../coaching/cursor.ts";
import type { NoticeInbox, NoticeView } from "../coaching/notice-inbox.ts";
import type { TaskBoards } from "../coaching/task-board.ts";
import { ASSIGNEE_COLUMNS, TASK_COLUMNS, progressView, taskView, type AssigneeRow, type TaskRow } from "../coaching/task-store.ts";

/** A child as their parent sees them. */
export interface ChildView {
  studentId: string;
  displayName: string;
  /** The rooms the child is a student of (names only: never the classmates or the chat). */
  rooms: { roomId: string; name: string }[];
}

/** One of the child's tasks: the task (its `assignees` list only the child) and the child's progress. */
export interface ChildTask {
  task: TaskView;
  progress: ProgressView;
}

/** The child's record in each of their rooms. */
export interface ChildSummary {
  studentId: string;
  rooms: StudentSummary[];
}

const CREATED_US = "(extract(epoch FROM t.created_at) * 1000000)::bigint";

/**
 * What a parent may read: only their own children (guardianships), and of each child only the
 * child's own tasks and progress, summaries and the notices addressed to the child — never chat,
 * never another student. A student who is not the parent's child answers exactly like one that
 * does not exist (NOT_FOUND), so a parent cannot probe which ids are students.
 */
export class ChildRecords {
  constructor(
    private readonly db: Queryable,
    private readonly boards: TaskBoards,
    private readonly inbox: NoticeInbox,
  ) {}

  async children(parentId: string): Promise<ChildView[]> {
    const res = await this.db.query<{ student_id: string; display_name: string; room_id: string | null; name: string | null }>(
      `SELECT g.student_id, u.display_name, r.id AS room_id, r.name
         FROM guardianships g JOIN users u ON u.id = g.student_id
         LEFT JOIN memberships m ON m.user_id = g.student_id AND m.role = 'student'
         LEFT JOIN rooms r ON r.id = m.room_id
        WHERE g.parent_id = $1 ORDER BY u.display_name, g.student_id, r.name, r.id`,
      [parentId],
    );
    const byChild = new Map<string, ChildView>();
    for (const r of res.rows) {
      let child = byChild.get(r.student_id);
      if (!child) byChild.set(r.student_id, (child = { studentId: r.student_id, displayName: r.display_name, rooms: [] }));
      if (r.room_id !== null) child.rooms.push({ roomId: r.room_id, name: r.name! });
    }
    return [...byChild.values()];
  }

  /** The child's tasks in the rooms they are still in, newest first. */
  async tasks(parentId: string, studentId: string, page: PageQuery): Promise<Page<ChildTask>> {
    await this.requireChild(parentId, studentId);
    const after = decodeCursor(page.cursor, ["number", "string"]);
    const res = await this.db.query<TaskRow & AssigneeRow & { created_us: number }>(
      `SELECT ${TASK_COLUMNS}, ${ASSIGNEE_COLUMNS}, ${CREATED_US} AS created_us
         FROM tasks t JOIN task_assignees a ON a.task_id = t.id AND a.user_id = $1
         JOIN memberships m ON m.room_id = t.room_id AND m.user_id = $1
        WHERE ($2::bigint IS NULL OR (${CREATED_US}, t.id) < ($2::bigint, $3::text))
        ORDER BY t.created_at DESC, t.id DESC LIMIT $4`,
      [studentId, after?.[0] ?? null, after?.[1] ?? "", page.limit + 1],
    );
    return pageOf(
      res.rows,
      page.limit,
      (r) => ({ task: taskView(r, [studentId]), progress: progressView({ ...r, task_id: r.id, user_id: studentId }, r.due_at) }),
      (r) => [Number(r.created_us), r.id],
    );
  }

  /** The child's summary in each room they are a student of. */
  async summary(parentId: string, studentId: string): Promise<ChildSummary> {
    await this.requireChild(parentId, studentId);
    const rooms = await this.db.query<{ room_id: string }>("SELECT room_id FROM memberships WHERE user_id = $1 AND role = 'student' ORDER BY room_id", [
      studentId,
    ]);
    const summaries: StudentSummary[] = [];
    // Read as the student themself would: the same numbers the child sees.
    for (const { room_id } of rooms.rows) summaries.push(await this.boards.studentSummary(studentId, room_id, studentId));
    return { studentId, rooms: summaries };
  }

  /** Notices addressed to the child (reminders, pace nudges), newest first. */
  async notices(parentId: string, studentId: string, page: { limit: number; cursor?: string | undefined }): Promise<Page<NoticeView>> {
    await this.requireChild(parentId, studentId);
    return this.inbox.list(studentId, undefined, page);
  }

  /** The caller must be a guardian of the student; anything else is NOT_FOUND, like an unknown id. */
  async requireChild(parentId: string, studentId: string): Promise<void> {
    const res = await this.db.query("SELECT 1 FROM guardianships WHERE parent_id = $1 AND student_id = $2", [parentId, studentId]);
    if (res.rows.length === 0) throw new CoachwireError("NOT_FOUND", "No such student");
  }
}
