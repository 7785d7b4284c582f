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
      const { progress } = input.body as CoachingEventBodies["task.progress"];
      if (progress.taskId !== task.id) return board;
      return withRows(
        board,
        board.rows.map((r) => (r.userId === progress.userId ? { ...r, ...progress, delivered: true, overdue: overdue(progress.state, task.dueAt) } : r)),
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
