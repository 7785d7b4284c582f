import { CoachwireError } from "../../protocol/errors.ts";
import type { RoomEvent } from "../../protocol/events.ts";
import type { Db, Queryable } from "../../db/db.ts";
import { appendEvents, EVENT_COLUMNS, rowToEvent, type AppendOutcome, type EventDraft, type EventRow } from "./append.ts";
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
async function inLogTransaction<T>(
  db: Db,
  sink: CommitSink,
  fn: (t: LogTransaction) => Promise<T>,
  beforePublish?: (result: T) => void,
): Promise<T> {
  const stored: RoomEvent[] = [];
  const result = await db.transaction((tx) => fn(logTransaction(tx, stored)));
  publish(sink, result, stored, beforePublish);
  return result;
}

/**
 * After COMMIT, before the broadcast: a membership change's notice then reaches every process
 * ahead of its event, so a member who saw the event acts on caches that already know it.
 */
function publish<T>(sink: CommitSink, result: T, stored: RoomEvent[], beforePublish?: (result: T) => void): void {
  try {
    beforePublish?.(result);
  } finally {
    if (stored.length > 0) sink(stored);
  }
}

/** The {@link LogTransaction} of `tx`; the events it stores are collected in `stored`. */
function logTransaction(tx: Queryable, stored: RoomEvent[]): LogTransaction {
  return {
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
  };
}

/** The one event of a single-draft append, stored or found under its clientId. */
export function only(outcomes: AppendOutcome[]): { event: RoomEvent; duplicate: boolean } {
  const o = outcomes[0];
  if (!o || o.status === "failed") throw o?.status === "failed" ? o.error : new CoachwireError("INTERNAL");
  return { event: o.event, duplicate: o.status === "duplicate" };
}

/** Tuning of the {@link RoomLogWriter}'s group commit. */
export interface RoomLogWriterOptions {
  /** Batches (transactions, so pool connections) in flight at once, each on rooms of its own. */
  maxBatches: number;
  /** Changes one transaction takes at most. */
  maxBatchSize: number;
}

export const DEFAULT_WRITER_OPTIONS: RoomLogWriterOptions = { maxBatches: 4, maxBatchSize: 128 };

interface Write {
  roomId: string;
  run(t: LogTransaction): Promise<unknown>;
  beforePublish: ((result: unknown) => void) | undefined;
  resolve(result: unknown): void;
  reject(err: unknown): void;
}

type Done = { ok: true; result: unknown; stored: RoomEvent[] } | { ok: false; error: unknown };

/**
 * Coaching writes of one process (tasks, progress, seen marks, membership, deletions), group
 * committed like chat: the changes queued while a transaction runs go together in the next one,
 * across rooms — one BEGIN/COMMIT (one WAL flush) for the lot instead of one per change. Each
 * change runs under a savepoint, so one that fails (a bad count, a cancelled task) is rolled
 * back alone and the rest of its batch commits; its caller gets its own error. A room's changes
 * run in the order they were queued, never in two transactions at once (a batch owns its rooms
 * until it has published), and a batch locks its rooms in id order, as coachwire_append and
 * {@link writeAcross} do, so batches, chat and bulk changes cannot deadlock. Every caller is
 * answered, and every stored event handed to the sink, only after COMMIT. Waiting changes wait
 * here, not holding a pool connection.
 */
export class RoomLogWriter {
  private pending: Write[] = [];
  private readonly busyRooms = new Set<string>();
  private running = 0;

  constructor(
    private readonly db: Db,
    private readonly sink: CommitSink,
    private readonly options: RoomLogWriterOptions = DEFAULT_WRITER_OPTIONS,
  ) {}

  /**
   * Runs `fn` in ONE log transaction after locking every listed room, in id order (a bulk
   * change such as a CSV import). Not batched: it waits on the row locks instead, and since
   * batches lock their rooms in id order too, the ordered locking cannot deadlock with them.
   */
  async writeAcross<T>(roomIds: readonly string[], fn: (t: LogTransaction) => Promise<T>): Promise<T> {
    return inLogTransaction(this.db, this.sink, async (log) => {
      for (const id of [...new Set(roomIds)].sort()) await log.lockRoom(id);
      return fn(log);
    });
  }

  /**
   * Runs `fn` as one change of the room's log (see {@link inLogTransaction}: its state and its
   * events commit together or not at all) after the room's earlier changes; `beforePublish` is
   * called with its result after the commit, before its events are broadcast.
   */
  write<T>(roomId: string, fn: (t: LogTransaction) => Promise<T>, beforePublish?: (result: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        roomId,
        run: fn,
        beforePublish: beforePublish as ((result: unknown) => void) | undefined,
        resolve: resolve as (result: unknown) => void,
        reject,
      });
      this.startBatches();
    });
  }

  /** Starts batches while there is a connection's worth of room for one and changes of idle rooms wait. */
  private startBatches(): void {
    while (this.running < this.options.maxBatches) {
      const batch: Write[] = [];
      const rooms = new Set<string>();
      const rest: Write[] = [];
      for (const w of this.pending) {
        // A room in flight waits whole (its later changes stay behind its earlier ones); a change
        // left out of a full batch is taken by the next, and its room's later ones after it.
        if (!this.busyRooms.has(w.roomId) && batch.length < this.options.maxBatchSize) {
          batch.push(w);
          rooms.add(w.roomId);
        } else {
          rest.push(w);
        }
      }
      if (batch.length === 0) return;
      this.pending = rest;
      for (const id of rooms) this.busyRooms.add(id);
      this.running++;
      void this.runBatch(batch).finally(() => {
        for (const id of rooms) this.busyRooms.delete(id);
        this.running--;
        this.startBatches();
      });
    }
  }

  private async runBatch(batch: Write[]): Promise<void> {
    let done: Done[];
    try {
      done = await this.commit(batch);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // The transaction itself failed (a lost connection, a deadlock): each change alone, so
      // one change's trouble is not everyone's.
      for (const w of batch) await this.runBatch([w]);
      return;
    }
    for (const [i, w] of batch.entries()) {
      const d = done[i]!;
      if (!d.ok) {
        w.reject(d.error);
        continue;
      }
      try {
        publish(this.sink, d.result, d.stored, w.beforePublish);
        w.resolve(d.result);
      } catch (err) {
        w.reject(err);
      }
    }
  }

  /** One transaction for the batch; a single change needs no savepoint (its failure rolls it all back). */
  private commit(batch: Write[]): Promise<Done[]> {
    const rooms = [...new Set(batch.map((w) => w.roomId))].sort();
    return this.db.transaction(async (tx) => {
      await tx.query("SELECT 1 FROM rooms WHERE id = ANY ($1) ORDER BY id FOR UPDATE", [rooms]);
      if (batch.length === 1) {
        const stored: RoomEvent[] = [];
        return [{ ok: true, result: await batch[0]!.run(logTransaction(tx, stored)), stored }];
      }
      const done: Done[] = [];
      for (const w of batch) {
        const stored: RoomEvent[] = [];
        await tx.query("SAVEPOINT coachwire_change");
        try {
          const result = await w.run(logTransaction(tx, stored));
          await tx.query("RELEASE SAVEPOINT coachwire_change");
          done.push({ ok: true, result, stored });
        } catch (error) {
          await tx.query("ROLLBACK TO SAVEPOINT coachwire_change");
          await tx.query("RELEASE SAVEPOINT coachwire_change");
          done.push({ ok: false, error });
        }
      }
      return done;
    });
  }
}
