import type { Queryable } from "../db/db.ts";
import type { RoomLogWriter } from "../server/log/log-transaction.ts";

import type { NoticeKind } from "../protocol/coaching.ts";

/** A notice about to be sent: to whom, about what, in which window (the natural key), and what it says. */
export interface NoticeDraft {
  kind: NoticeKind;
  /** What it is about (the task id). */
  scopeId: string;
  userId: string;
  /** Which occurrence: e.g. a reminder's offset and the due time it was for. */
  windowKey: string;
  roomId: string;
  body: Record<string, unknown>;
}

/**
 * Sends a notice exactly once: the notices row (unique on kind, scope, recipient, window) and its
 * `notice` event commit in one change of the room log, through the process's one writer — group
 * committed with the other changes queued meanwhile (a job's notices to a whole class go in one
 * transaction), after the room's earlier changes. The stored event goes to the writer's sink
 * (the fan-out) after COMMIT. A job that runs again finds the row and writes nothing.
 * `alsoInTransaction` adds a state change that must happen exactly when the notice does (a pace
 * flag); `onlyIf` a condition that must still hold under the room lock. Returns the seq, or null
 * if already sent (or no longer due).
 */
export async function sendNotice(
  writer: RoomLogWriter,
  n: NoticeDraft,
  alsoInTransaction?: (tx: Queryable) => Promise<void>,
  onlyIf?: (tx: Queryable) => Promise<boolean>,
): Promise<number | null> {
  return writer.write(n.roomId, async (log) => {
    const lastSeq = await log.lockRoom(n.roomId);
    // Checked again under the room lock every progress change also takes: a report that
    // finished the task while the job was reading cannot be followed by a reminder.
    if (onlyIf && !(await onlyIf(log.tx))) return null;
    const body = { notice: n.kind, userId: n.userId, ...n.body };
    const inserted = await log.tx.query(
      `INSERT INTO notices (kind, scope_id, user_id, window_key, room_id, seq, body) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (kind, scope_id, user_id, window_key) DO NOTHING RETURNING id`,
      [n.kind, n.scopeId, n.userId, n.windowKey, n.roomId, lastSeq + 1, JSON.stringify(body)],
    );
    if (inserted.rows.length === 0) return null;
    await alsoInTransaction?.(log.tx);
    const clientId = `notice:${n.kind}:${n.scopeId}:${n.userId}:${n.windowKey}`;
    const [outcome] = await log.append([{ roomId: n.roomId, clientId, kind: "notice", senderId: null, body }]);
    return outcome?.status === "failed" ? null : (outcome?.event.seq ?? null);
  });
}

/** True while the assignee has not finished the task (read under the caller's room lock). */
export async function stillUnfinished(tx: Queryable, taskId: string, userId: string): Promise<boolean> {
  const res = await tx.query<{ state: string }>("SELECT state FROM task_assignees WHERE task_id = $1 AND user_id = $2", [taskId, userId]);
  return res.rows[0] !== undefined && res.rows[0].state !== "done";
}

/** Waits for every send, then throws the first failure (the job is run again; sent ones are found by their key). */
export async function settleAll(sends: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(sends)).find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}
