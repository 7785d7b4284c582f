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
 * Sends notices exactly once: each notices row (unique on kind, scope, recipient, window) and its
 * `notice` event commit together, as ONE change of the room log through the process's writer —
 * a job's notices to a class are one lock, one insert and one append, group committed with
 * whatever else is queued, after the room's earlier changes. The stored events go to the
 * writer's sink (the fan-out) after COMMIT. Notices already sent are skipped (a job that runs
 * again writes nothing). `stillDue` filters the recipients under the room lock every progress
 * change also takes (a report that finished the task while the job was reading wins);
 * `alsoInTransaction` adds a state change for the recipients actually sent to (a pace flag).
 * Every draft must be for the same room. Returns each draft's seq, or null if not sent.
 */
export async function sendNotices(
  writer: RoomLogWriter,
  drafts: readonly NoticeDraft[],
  stillDue?: (tx: Queryable, userIds: string[]) => Promise<Set<string>>,
  alsoInTransaction?: (tx: Queryable, userIds: string[]) => Promise<void>,
): Promise<(number | null)[]> {
  if (drafts.length === 0) return [];
  const roomId = drafts[0]!.roomId;
  if (drafts.some((d) => d.roomId !== roomId)) throw new Error("sendNotices: every draft must be for one room");
  return writer.write(roomId, async (log) => {
    const lastSeq = await log.lockRoom(roomId);
    const due = stillDue ? await stillDue(log.tx, drafts.map((d) => d.userId)) : undefined;
    const sent = await log.tx.query<{ kind: string; scope_id: string; user_id: string; window_key: string }>(
      `SELECT kind, scope_id, user_id, window_key FROM notices
        WHERE (kind, scope_id, user_id, window_key) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]))`,
      [drafts.map((d) => d.kind), drafts.map((d) => d.scopeId), drafts.map((d) => d.userId), drafts.map((d) => d.windowKey)],
    );
    const already = new Set(sent.rows.map((r) => noticeKey(r.kind, r.scope_id, r.user_id, r.window_key)));
    const fresh = drafts.filter((d) => (due === undefined || due.has(d.userId)) && !already.has(noticeKey(d.kind, d.scopeId, d.userId, d.windowKey)));
    if (fresh.length === 0) return drafts.map(() => null);
    // Under the room lock the next seqs are lastSeq + 1, + 2, …, in the order appended below.
    const bodies = fresh.map((n) => ({ notice: n.kind, userId: n.userId, ...n.body }));
    await log.tx.query(
      `INSERT INTO notices (kind, scope_id, user_id, window_key, room_id, seq, body)
       SELECT k, s, u, w, $5, $6::bigint + o, b::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $7::text[]) WITH ORDINALITY AS v(k, s, u, w, b, o)`,
      [fresh.map((n) => n.kind), fresh.map((n) => n.scopeId), fresh.map((n) => n.userId), fresh.map((n) => n.windowKey), roomId, lastSeq, bodies.map((b) => JSON.stringify(b))],
    );
    await alsoInTransaction?.(log.tx, fresh.map((n) => n.userId));
    const outcomes = await log.append(
      fresh.map((n, i) => ({ roomId, clientId: `notice:${n.kind}:${n.scopeId}:${n.userId}:${n.windowKey}`, kind: "notice" as const, senderId: null, body: bodies[i]! })),
    );
    const seqs = new Map<NoticeDraft, number>();
    for (const [i, o] of outcomes.entries()) {
      // A seq other than the one its row holds would split the row from its event: refuse, roll back.
      if (o.status !== "stored" || o.event.seq !== lastSeq + i + 1) throw new Error(`notice ${i} of ${fresh.length} in ${roomId} was not stored at seq ${lastSeq + i + 1}`);
      seqs.set(fresh[i]!, o.event.seq);
    }
    return drafts.map((d) => seqs.get(d) ?? null);
  });
}

/** Sends one notice (see {@link sendNotices}); returns its seq, or null if already sent. */
export async function sendNotice(writer: RoomLogWriter, n: NoticeDraft): Promise<number | null> {
  const [seq] = await sendNotices(writer, [n]);
  return seq ?? null;
}

const noticeKey = (kind: string, scopeId: string, userId: string, windowKey: string) => `${kind}\t${scopeId}\t${userId}\t${windowKey}`;

/** Of these assignees, the ones who have not finished the task (read under the caller's room lock). */
export async function stillUnfinished(tx: Queryable, taskId: string, userIds: string[]): Promise<Set<string>> {
  const res = await tx.query<{ user_id: string }>("SELECT user_id FROM task_assignees WHERE task_id = $1 AND user_id = ANY($2::text[]) AND state <> 'done'", [taskId, userIds]);
  return new Set(res.rows.map((r) => r.user_id));
}
