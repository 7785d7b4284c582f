import { EventEmitter } from "node:events";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Db } from "../../db/db.ts";
import { FlushLoop } from "../log/flush-loop.ts";

/** A member's read mark, as broadcast to the room. */
export interface ReadMark {
  roomId: string;
  userId: string;
  seq: number;
}

interface PendingMark {
  seq: number;
  waiters: { resolve: (seq: number) => void; reject: (err: unknown) => void }[];
}

/**
 * Read marks (`msg:read`): checked at once, then coalesced per (room, member) and written in
 * one statement per flush. A mark only moves forward (GREATEST in SQL, so a late or repeated
 * mark never moves it back). Each request is answered after its flush committed, with the mark
 * as stored; the moved marks are then handed to the sink (a coalesced `read` broadcast).
 * Emits "flushFailed" when a write fails (its requests get UNAVAILABLE).
 */
export class ReadMarks extends EventEmitter {
  private pending = new Map<string, PendingMark>();
  private readonly loop: FlushLoop;

  constructor(
    private readonly db: Db,
    flushMs: number,
    private readonly sink: (marks: ReadMark[]) => void,
  ) {
    super();
    // The same group-commit timing as chat's persister; a batch is every mark queued meanwhile.
    this.loop = new FlushLoop({
      flushMs,
      full: () => false,
      queued: () => this.pending.size > 0,
      writeBatch: () => {
        const batch = this.pending;
        this.pending = new Map();
        return this.write(batch);
      },
    });
  }

  /**
   * Moves `userId`'s mark in the room to `seq` (if higher). The caller has checked membership;
   * a seq beyond the room's last event is SEQ_OUT_OF_RANGE and nothing is queued.
   */
  async mark(roomId: string, userId: string, seq: number): Promise<number> {
    const head = await this.db.query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1", [roomId]);
    const lastSeq = head.rows[0]?.last_seq;
    if (lastSeq === undefined) throw new CoachwireError("ROOM_NOT_FOUND");
    if (seq > lastSeq) throw new CoachwireError("SEQ_OUT_OF_RANGE", `seq ${seq} is beyond the room's last seq ${lastSeq}`);
    return new Promise((resolve, reject) => {
      const key = `${roomId}\t${userId}`;
      let entry = this.pending.get(key);
      if (!entry) this.pending.set(key, (entry = { seq, waiters: [] }));
      entry.seq = Math.max(entry.seq, seq);
      entry.waiters.push({ resolve, reject });
      this.loop.nudge();
    });
  }

  /** Writes what is queued now (and waits for a write already running). */
  flush(): Promise<void> {
    return this.loop.flush();
  }

  close(): Promise<void> {
    return this.loop.flush();
  }

  private async write(batch: Map<string, PendingMark>): Promise<void> {
    const keys = [...batch.keys()].map((k) => k.split("\t") as [string, string]);
    const seqs = [...batch.values()].map((p) => p.seq);
    try {
      // One statement: move the marks that are behind, then read every mark of the batch.
      const res = await this.db.query<{ room_id: string; user_id: string; last_read_seq: number; moved: boolean }>(
        `WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(room_id, user_id, seq)),
              moved AS (
                UPDATE memberships m SET last_read_seq = v.seq FROM v
                 WHERE m.room_id = v.room_id AND m.user_id = v.user_id AND m.last_read_seq < v.seq
                RETURNING m.room_id, m.user_id, m.last_read_seq)
         SELECT m.room_id, m.user_id, coalesce(mv.last_read_seq, m.last_read_seq) AS last_read_seq, mv.room_id IS NOT NULL AS moved
           FROM v JOIN memberships m ON m.room_id = v.room_id AND m.user_id = v.user_id
           LEFT JOIN moved mv ON mv.room_id = v.room_id AND mv.user_id = v.user_id`,
        [keys.map((k) => k[0]), keys.map((k) => k[1]), seqs],
      );
      const stored = new Map(res.rows.map((r) => [`${r.room_id}\t${r.user_id}`, r]));
      const moved: ReadMark[] = [];
      for (const [key, p] of batch) {
        const row = stored.get(key);
        for (const w of p.waiters) row ? w.resolve(row.last_read_seq) : w.reject(new CoachwireError("NOT_A_MEMBER"));
        if (row?.moved) moved.push({ roomId: row.room_id, userId: row.user_id, seq: row.last_read_seq });
      }
      if (moved.length > 0) this.sink(moved);
    } catch (err) {
      this.emit("flushFailed", err);
      for (const p of batch.values()) for (const w of p.waiters) w.reject(new CoachwireError("UNAVAILABLE", "Could not store the read mark; retry"));
    }
  }
}
