import { CoachwireError } from "../../protocol/errors.ts";
import type { RoomEvent } from "../../protocol/events.ts";
import type { Db, Queryable } from "../../db/db.ts";
import { appendEvents, EVENT_COLUMNS, rowToEvent, type AppendOutcome, type EventDraft, type EventRow } from "./append.ts";
import { KeyedQueue } from "../keyed-queue.ts";
import type { CommitSink } from "./persister.ts";

/** What a coaching change gets inside its transaction. */
export interface LogTransaction {
  tx: Queryable;
  /**
   * Locks the room's row and returns its last seq, so the next event appended here gets
   * exactly lastSeq + 1. Every coaching change locks its room first: per-room changes then
   * run one at a time, and with one room per transaction they cannot deadlock.
   */
  lockRoom(roomId: string): Promise<number>;
  /**
   * The event this sender already stored in the room under this clientId, if any (checked after
   * lockRoom). Ids are scoped to their sender: another member's event with the same id is not it.
   */
  findByClientId(roomId: string, senderId: string | null, clientId: string): Promise<RoomEvent | undefined>;
  /** The event stored in the room under this clientId by anyone (a key that is one per room, e.g. a message's tombstone). */
  findInRoom(roomId: string, clientId: string): Promise<RoomEvent | undefined>;
  /** Appends events through the one write path (coachwire_append), inside this transaction. */
  append(drafts: readonly EventDraft[]): Promise<AppendOutcome[]>;
}

/**
 * Runs a coaching change (task, progress, membership, deletion) and the room-log events that
 * announce it in ONE transaction, then hands the stored events to the same commit sink the
 * persister uses. State and log therefore commit together or not at all, and nothing is shown
 * to anyone before it is durable. Chat goes through the group-commit persister instead; both
 * end in coachwire_append, so seqs stay gap-free per room whichever path wrote them.
 */
export async function inLogTransaction<T>(
  db: Db,
  sink: CommitSink,
  fn: (t: LogTransaction) => Promise<T>,
  beforePublish?: (result: T) => void,
): Promise<T> {
  const stored: RoomEvent[] = [];
  const result = await db.transaction((tx) =>
    fn({
      tx,
      async lockRoom(roomId) {
        const res = await tx.query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1 FOR UPDATE", [roomId]);
        if (!res.rows[0]) throw new CoachwireError("ROOM_NOT_FOUND");
        return res.rows[0].last_seq;
      },
      async findByClientId(roomId, senderId, clientId) {
        const res = await tx.query<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM room_events WHERE room_id = $1 AND coalesce(sender_id, '') = coalesce($2, '') AND client_id = $3`,
          [roomId, senderId, clientId],
        );
        return res.rows[0] ? rowToEvent(res.rows[0]) : undefined;
      },
      async findInRoom(roomId, clientId) {
        const res = await tx.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM room_events WHERE room_id = $1 AND client_id = $2 ORDER BY seq LIMIT 1`, [
          roomId,
          clientId,
        ]);
        return res.rows[0] ? rowToEvent(res.rows[0]) : undefined;
      },
      async append(drafts) {
        const outcomes = await appendEvents(tx, drafts);
        for (const o of outcomes) {
          if (o.status === "failed") throw o.error;
          if (o.status === "stored") stored.push(o.event);
        }
        return outcomes;
      },
    }),
  );
  // After COMMIT, before the broadcast: a membership change's notice then reaches every process
  // ahead of its event, so a member who saw the event acts on caches that already know it.
  try {
    beforePublish?.(result);
  } finally {
    if (stored.length > 0) sink(stored);
  }
  return result;
}

/** The one event of a single-draft append, stored or found under its clientId. */
export function only(outcomes: AppendOutcome[]): { event: RoomEvent; duplicate: boolean } {
  const o = outcomes[0];
  if (!o || o.status === "failed") throw o?.status === "failed" ? o.error : new CoachwireError("INTERNAL");
  return { event: o.event, duplicate: o.status === "duplicate" };
}

/**
 * Coaching writes of one process, queued per room: a room's changes run one at a time, and a
 * change that waits does so here, not holding a pool connection while it queues for the room's
 * row lock. (Without this, a task's students reporting at once tied up the whole pool waiting
 * on one room, and chat for every other room waited behind them.)
 */
export class RoomLogWriter {
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly db: Db,
    private readonly sink: CommitSink,
  ) {}

  /**
   * Runs `fn` in ONE log transaction after locking every listed room, in id order (a bulk
   * change such as a CSV import). Not queued per room: it waits on the row locks instead, and
   * since one-room writes hold one lock each, the ordered locking cannot deadlock with them.
   */
  async writeAcross<T>(roomIds: readonly string[], fn: (t: LogTransaction) => Promise<T>): Promise<T> {
    return inLogTransaction(this.db, this.sink, async (log) => {
      for (const id of [...new Set(roomIds)].sort()) await log.lockRoom(id);
      return fn(log);
    });
  }

  /**
   * Runs `fn` in a log transaction (see {@link inLogTransaction}) after the room's earlier writes;
   * `beforePublish` is called with its result after the commit, before the events are broadcast.
   */
  write<T>(roomId: string, fn: (t: LogTransaction) => Promise<T>, beforePublish?: (result: T) => void): Promise<T> {
    return this.queue.run(roomId, () => inLogTransaction(this.db, this.sink, fn, beforePublish));
  }
}
