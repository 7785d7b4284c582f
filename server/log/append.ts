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
  /**
   * Check the sender against the database as the event is written: not a member → NOT_A_MEMBER,
   * muted → MUTED (chat from members; caches may lag a membership change made elsewhere).
   */
  checkSender?: boolean;
}

/** What became of one draft: stored now, already stored under its clientId, or refused. */
export type AppendOutcome =
  | { status: "stored"; event: RoomEvent }
  | { status: "duplicate"; event: RoomEvent }
  | { status: "failed"; error: CoachwireError };

export interface EventRow {
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

interface AppendRow {
  r_ord: number;
  r_outcome: "stored" | "duplicate" | "missing" | "not_member" | "muted";
  r_seq: number;
  r_kind: EventKind;
  r_sender: string | null;
  r_body: Record<string, unknown>;
  r_created_at: Date;
}

/**
 * The one write path into room logs: one call of the `coachwire_append` function
 * (db/migrations/006_room_rules.sql), atomic on its own, or part of the caller's
 * transaction when `db` is one. Per room, in draft order, it assigns the next gap-free seqs
 * under the room's row lock; a clientId the same sender already stored in the room answers the
 * stored event (nothing written; another sender's id is theirs, not a repeat); an unknown room — or, with `checkSender`, a sender no longer a member or
 * muted — fails that draft only. Outcomes are in draft order.
 */
export async function appendEvents(db: Queryable, drafts: readonly EventDraft[]): Promise<AppendOutcome[]> {
  if (drafts.length === 0) return [];
  const res = await db.query<AppendRow>("SELECT * FROM coachwire_append($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[])", [
    drafts.map((d) => d.roomId),
    drafts.map((d) => d.clientId),
    drafts.map((d) => d.kind),
    drafts.map((d) => d.senderId),
    drafts.map((d) => JSON.stringify(d.body)),
    drafts.map((d) => d.checkSender ?? false),
  ]);
  return res.rows.map((row): AppendOutcome => {
    const draft = drafts[row.r_ord - 1]!;
    if (row.r_outcome === "missing") return { status: "failed", error: new CoachwireError("ROOM_NOT_FOUND") };
    if (row.r_outcome === "not_member") return { status: "failed", error: new CoachwireError("NOT_A_MEMBER") };
    if (row.r_outcome === "muted") return { status: "failed", error: new CoachwireError("MUTED") };
    const event: RoomEvent = {
      roomId: draft.roomId,
      seq: row.r_seq,
      kind: row.r_kind,
      senderId: row.r_sender,
      clientId: draft.clientId,
      body: row.r_outcome === "stored" ? draft.body : row.r_body,
      createdAt: row.r_created_at.getTime(),
    };
    return { status: row.r_outcome, event };
  });
}
