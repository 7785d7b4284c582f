import { PROGRESS_STATES, type ProgressState, type ProgressView } from "../../protocol/coaching.ts";
import { MAX_COUNT, type TaskProgressRequest } from "../../protocol/coaching-schemas.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { ProgressResult } from "../../protocol/events.ts";
import type { Db } from "../../db/db.ts";
import { only, type LogTransaction, type RoomLogWriter } from "../log/log-transaction.ts";
import { membershipOf } from "./access.ts";
import { ASSIGNEE_COLUMNS, loadTask, progressView, type AssigneeRow, type TaskRow } from "./task-store.ts";

/** Called after an assignee's progress changed (the worker re-plans nudges from this). */
export type ProgressListener = (progress: ProgressView, task: TaskRow) => void;

const rank = (s: ProgressState) => PROGRESS_STATES.indexOf(s);
const later = (a: ProgressState, b: ProgressState) => (rank(a) >= rank(b) ? a : b);

/**
 * An assignee's progress on a task: the state moves forward only (assigned → seen → started →
 * done) and the counts only grow, never past the target. Each change and its task.progress
 * event commit together; a report's opId makes a retry answer the first result, counting once.
 */
export class ProgressService {
  constructor(
    private readonly db: Db,
    private readonly writer: RoomLogWriter,
    private readonly onChange: ProgressListener = () => {},
  ) {}

  /** The student's client showed the task: assigned → seen, once; later calls change nothing. */
  seen(userId: string, taskId: string): Promise<ProgressResult> {
    return this.apply(userId, taskId, `task.seen:${userId}:${taskId}`, null, (row) => ({
      state: later(row.state, "seen"),
      solved: row.solved,
      correct: row.correct,
      wrong: row.wrong,
    }));
  }

  /** Adds counts and/or moves the state forward; reaching the target means done. */
  report(userId: string, req: TaskProgressRequest): Promise<ProgressResult> {
    const correct = req.correct ?? 0;
    const wrong = req.wrong ?? 0;
    const solved = req.solved ?? correct + wrong;
    if (solved < 0 || correct < 0 || wrong < 0) throw new CoachwireError("COUNT_OUT_OF_RANGE", "counts cannot be negative");
    if (correct + wrong > solved) throw new CoachwireError("COUNT_OUT_OF_RANGE", "correct + wrong exceeds solved");
    return this.apply(userId, req.taskId, `task.progress:${userId}:${req.taskId}:${req.opId}`, req.opId, (row, task) => {
      const total = row.solved + solved;
      if (task.target !== null && total > task.target) {
        throw new CoachwireError("COUNT_OUT_OF_RANGE", `${total} would pass the target of ${task.target} (${row.solved} so far)`);
      }
      if (total > MAX_COUNT) throw new CoachwireError("COUNT_OUT_OF_RANGE", `${total} would pass the most a count can reach, ${MAX_COUNT} (${row.solved} so far)`);
      let state = later(row.state, req.state ?? row.state);
      if (solved > 0) state = later(state, "started");
      if (task.target !== null && total === task.target) state = "done";
      return { state, solved: total, correct: row.correct + correct, wrong: row.wrong + wrong };
    });
  }

  private async apply(
    userId: string,
    taskId: string,
    clientId: string,
    opId: string | null,
    next: (row: AssigneeRow, task: TaskRow) => Pick<AssigneeRow, "state" | "solved" | "correct" | "wrong">,
  ): Promise<ProgressResult> {
    const { room_id: roomId } = await loadTask(this.db, taskId);
    let changed: { progress: ProgressView; task: TaskRow } | undefined;
    const result = await this.writer.write(roomId, async (log): Promise<ProgressResult> => {
      await log.lockRoom(roomId);
      await membershipOf(log.tx, roomId, userId, "TASK_NOT_FOUND");
      const earlier = opId === null ? undefined : await log.findByClientId(roomId, userId, clientId);
      if (earlier) {
        return { progress: (earlier.body as { progress: ProgressView }).progress, seq: earlier.seq, duplicate: true };
      }
      const task = await loadTask(log.tx, taskId);
      if (task.status === "cancelled") throw new CoachwireError("TASK_CANCELLED");
      const row = await this.assignee(log, taskId, userId);
      const to = next(row, task);
      if (to.state === row.state && to.solved === row.solved && to.correct === row.correct && to.wrong === row.wrong) {
        return { progress: progressView(row, task.due_at), seq: null, duplicate: false };
      }
      const updated = await log.tx.query<AssigneeRow>(
        `UPDATE task_assignees a SET state = $3, solved = $4, correct = $5, wrong = $6,
                seen_at = CASE WHEN a.seen_at IS NULL AND $3 <> 'assigned' THEN now() ELSE a.seen_at END,
                started_at = CASE WHEN a.started_at IS NULL AND $3 IN ('started', 'done') THEN now() ELSE a.started_at END,
                done_at = CASE WHEN a.done_at IS NULL AND $3 = 'done' THEN now() ELSE a.done_at END,
                behind_pace = a.behind_pace AND $3 <> 'done',
                updated_at = now()
          WHERE a.task_id = $1 AND a.user_id = $2 RETURNING ${ASSIGNEE_COLUMNS}`,
        [taskId, userId, to.state, to.solved, to.correct, to.wrong],
      );
      const progress = progressView(updated.rows[0]!, task.due_at);
      // Read under the room's lock, which a settings change takes too: the event says whether
      // classmates may see it as the room stood when it was reported (server/log/audience.ts).
      const room = await log.tx.query<{ share_progress: boolean }>("SELECT share_progress FROM rooms WHERE id = $1", [roomId]);
      const shared = room.rows[0]?.share_progress === true;
      // A seen mark repeats harmlessly (nothing changes), so only reports keep their clientId.
      const draft = { roomId, clientId: opId === null ? null : clientId, kind: "task.progress" as const, senderId: userId, body: { progress, opId, shared } };
      const { event } = only(await log.append([draft]));
      changed = { progress, task };
      return { progress, seq: event.seq, duplicate: false };
    });
    if (changed) this.onChange(changed.progress, changed.task);
    return result;
  }

  private async assignee(log: LogTransaction, taskId: string, userId: string): Promise<AssigneeRow> {
    const res = await log.tx.query<AssigneeRow>(`SELECT ${ASSIGNEE_COLUMNS} FROM task_assignees a WHERE a.task_id = $1 AND a.user_id = $2`, [
      taskId,
      userId,
    ]);
    if (!res.rows[0]) throw new CoachwireError("NOT_ASSIGNED");
    return res.rows[0];
  }
}
