import { funnelOf, type BoardRow, type CoachingEventBodies, type TaskBoard } from "./coaching.ts";
import type { RoomEvent } from "./events.ts";

/** A member's read mark as the server broadcasts it (`read`). */
export interface ReadMarkNotice {
  roomId: string;
  userId: string;
  seq: number;
}

/**
 * Keeps a coach's task board live: give it each room event (in seq order, as the SDK delivers
 * them) and each `read` notice; it returns the board with the change applied (or the same board
 * when the input is about something else). Progress events carry an assignee's whole state, so
 * applying them in order always ends at what the server stored.
 */
export function applyToBoard(board: TaskBoard, input: RoomEvent | ReadMarkNotice): TaskBoard {
  const task = board.task;
  if (!("kind" in input)) {
    if (input.roomId !== task.roomId || input.seq < task.createdSeq) return board;
    return withRows(board, board.rows.map((r) => (r.userId === input.userId && !r.delivered ? { ...r, delivered: true } : r)));
  }
  if (input.roomId !== task.roomId) return board;
  switch (input.kind) {
    case "task.progress": {
      // A redacted copy (`{redacted: true}`, what a classmate gets) says nothing to apply.
      const { progress } = input.body as Partial<CoachingEventBodies["task.progress"]>;
      if (!progress || progress.taskId !== task.id) return board;
      return withRows(
        board,
        board.rows.map((r) =>
          r.userId === progress.userId
            ? { ...r, ...progress, delivered: true, overdue: overdue(progress.state, task.dueAt), behindPace: r.behindPace && progress.state !== "done" }
            : r,
        ),
      );
    }
    case "task.updated": {
      const body = input.body as CoachingEventBodies["task.updated"];
      if (body.task.id !== task.id) return board;
      return withRows({ ...board, task: body.task }, board.rows.map((r) => ({ ...r, overdue: overdue(r.state, body.task.dueAt) })));
    }
    case "task.cancelled": {
      const { taskId } = input.body as CoachingEventBodies["task.cancelled"];
      return taskId === task.id ? { ...board, task: { ...task, status: "cancelled" } } : board;
    }
    case "notice": {
      const notice = input.body as CoachingEventBodies["notice"];
      if (notice.notice !== "nudge" || notice.taskId !== task.id) return board;
      return withRows(board, board.rows.map((r) => (r.userId === notice.userId ? { ...r, behindPace: true } : r)));
    }
    case "member.removed": {
      const { userId } = input.body as CoachingEventBodies["member.removed"];
      // The server drops a removed student's unfinished assignments; finished ones stay.
      return withRows(board, board.rows.filter((r) => r.userId !== userId || r.state === "done"));
    }
    case "member.added": {
      const member = input.body as CoachingEventBodies["member.added"];
      if (!task.assignAll || task.status !== "open" || member.role !== "student" || board.rows.some((r) => r.userId === member.userId)) return board;
      const row: BoardRow = {
        taskId: task.id,
        userId: member.userId,
        displayName: member.displayName,
        state: "assigned",
        solved: 0,
        correct: 0,
        wrong: 0,
        late: false,
        seenAt: null,
        startedAt: null,
        doneAt: null,
        delivered: false,
        overdue: overdue("assigned", task.dueAt),
        behindPace: false,
      };
      return withRows({ ...board, task: { ...task, assignees: [...task.assignees, member.userId] } }, [...board.rows, row]);
    }
    default:
      return board;
  }
}

function overdue(state: BoardRow["state"], dueAt: number | null): boolean {
  return state !== "done" && dueAt !== null && dueAt < Date.now();
}

function withRows(board: TaskBoard, rows: BoardRow[]): TaskBoard {
  return { ...board, rows, funnel: funnelOf(rows) };
}
