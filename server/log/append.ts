import { CoachwireError } from "../../protocol/errors.ts";
import type { EventKind, RoomEvent } from "../../protocol/events.ts";
import type { Queryable } from "../../db/db.ts";

/** An event about to be stored; the seq is assigned by {@link appendEvents}. */
export interface EventDraft {
  roomId: string;
  clientId: string | null;
  kind: EventKind;
  senderId: string | null;
  body: Record<string, unknown>;
}

/** What became of one draft: stored now, already stored under its clientId, or refused. */
export type AppendOutcome =
  | { status: "stored"; event: RoomEvent }
  | { status: "duplicate"; event: RoomEvent }
  | { status: "failed"; error: CoachwireError };

interface EventRow {
  room_id: string;
  seq: number;
  client_id: string | null;
  kind: EventKind;
  sender_id: string | null;
  body: Record<string, unknown>;
  created_at: Date;
}

/** Turns a room_events row into the wire shape. */
export function rowToEvent(row: EventRow): RoomEvent {
  return {
    roomId: row.room_id,
    seq: row.seq,
    kind: row.kind,
    senderId: row.sender_id,
    clientId: row.client_id,
    body: row.body,
    createdAt: row.created_at.getTime(),
  };
}

/** The columns every event read selects, in {@link EventRow} shape. */
export const EVENT_COLUMNS = "room_id, seq, client_id, kind, sender_id, body, created_at";

const dedupeKey = (roomId: string, clientId: string) => `${roomId}\u0000${clientId}`;

/**
 * The one write path into room logs. Must run inside a transaction. It locks the rooms involved
 * (in id order, so concurrent writers cannot deadlock), resolves clientIds that are already
 * stored, assigns the next gap-free seqs per room in draft order, bumps rooms.last_seq and
 * inserts the rows. Outcomes are returned in draft order.
 */
export async function appendEvents(tx: Queryable, drafts: readonly EventDraft[]): Promise<AppendOutcome[]> {
  const roomIds = [...new Set(drafts.map((d) => d.roomId))].sort();
  const locked = await tx.query<{ id: string; last_seq: number }>(
    "SELECT id, last_seq FROM rooms WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE",
    [roomIds],
  );
  const lockedSeq = new Map(locked.rows.map((r) => [r.id, r.last_seq]));
  const lastSeq = new Map(lockedSeq);

  // After the row locks, READ COMMITTED sees every commit that raced us for these rooms.
  const keyed = drafts.filter((d) => d.clientId !== null && lastSeq.has(d.roomId));
  const existing = new Map<string, RoomEvent>();
  if (keyed.length > 0) {
    const found = await tx.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM room_events
        WHERE (room_id, client_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [keyed.map((d) => d.roomId), keyed.map((d) => d.clientId)],
    );
    for (const row of found.rows) existing.set(dedupeKey(row.room_id, row.client_id!), rowToEvent(row));
  }

  const outcomes: (AppendOutcome | { status: "pending"; seq: number; sameAs?: number })[] = [];
  const firstInBatch = new Map<string, number>();
  for (const [i, draft] of drafts.entries()) {
    const seqBefore = lastSeq.get(draft.roomId);
    if (seqBefore === undefined) {
      outcomes.push({ status: "failed", error: new CoachwireError("ROOM_NOT_FOUND") });
      continue;
    }
    if (draft.clientId !== null) {
      const key = dedupeKey(draft.roomId, draft.clientId);
      const stored = existing.get(key);
      if (stored) {
        outcomes.push({ status: "duplicate", event: stored });
        continue;
      }
      const earlier = firstInBatch.get(key);
      if (earlier !== undefined) {
        outcomes.push({ status: "pending", seq: 0, sameAs: earlier });
        continue;
      }
      firstInBatch.set(key, i);
    }
    lastSeq.set(draft.roomId, seqBefore + 1);
    outcomes.push({ status: "pending", seq: seqBefore + 1 });
  }

  const fresh = outcomes.flatMap((o, i) => (o.status === "pending" && o.sameAs === undefined ? [i] : []));
  if (fresh.length === 0) return outcomes as AppendOutcome[];

  const bumped = [...lastSeq].filter(([id, seq]) => lockedSeq.get(id) !== seq);
  await tx.query(
    "UPDATE rooms SET last_seq = v.seq FROM unnest($1::text[], $2::bigint[]) AS v(id, seq) WHERE rooms.id = v.id",
    [bumped.map(([id]) => id), bumped.map(([, seq]) => seq)],
  );
  const inserted = await tx.query<{ created_at: Date }>(
    `INSERT INTO room_events (room_id, seq, client_id, kind, sender_id, body)
     SELECT r, s, c, k, u, b::jsonb
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS v(r, s, c, k, u, b)
     RETURNING created_at`,
    [
      fresh.map((i) => drafts[i]!.roomId),
      fresh.map((i) => (outcomes[i] as { seq: number }).seq),
      fresh.map((i) => drafts[i]!.clientId),
      fresh.map((i) => drafts[i]!.kind),
      fresh.map((i) => drafts[i]!.senderId),
      fresh.map((i) => JSON.stringify(drafts[i]!.body)),
    ],
  );
  const createdAt = inserted.rows[0]!.created_at.getTime();

  for (const i of fresh) {
    const draft = drafts[i]!;
    const seq = (outcomes[i] as { seq: number }).seq;
    outcomes[i] = {
      status: "stored",
      event: { roomId: draft.roomId, seq, kind: draft.kind, senderId: draft.senderId, clientId: draft.clientId, body: draft.body, createdAt },
    };
  }
  for (const [i, o] of outcomes.entries()) {
    if (o.status === "pending" && o.sameAs !== undefined) {
      outcomes[i] = { status: "duplicate", event: (outcomes[o.sameAs] as { event: RoomEvent }).event };
    }
  }
  return outcomes as AppendOutcome[];
}
