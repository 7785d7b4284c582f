import assert from "node:assert/strict";
import type { Db } from "../../db/db.ts";
import type { CoachClient } from "../../protocol/client.ts";
import type { RoomEvent } from "../../protocol/events.ts";
import { storedEvents } from "./fixtures.ts";
import { eventually } from "./server.ts";

/**
 * Traffic through a room while a fault is injected, and the audit afterwards: what the
 * senders were told was stored (acks) against what room_events holds, and what each receiver
 * was handed by the SDK against the room's log.
 */

/** What the SDK delivered to the app for one room, in delivery order. */
export function delivered(client: CoachClient, roomId: string): RoomEvent[] {
  const seen: RoomEvent[] = [];
  client.on("event", (e) => e.roomId === roomId && seen.push(e));
  return seen;
}

/** A client joined to a room, with what the SDK hands it from the join on. */
export interface Receiver {
  client: CoachClient;
  seen: RoomEvent[];
  /** The room's last seq when the join answered. */
  joinedAt: number;
}

/** Joins every client to the room (one after another) and records its deliveries. */
export async function joinAll(clients: CoachClient[], roomId: string): Promise<Receiver[]> {
  const receivers: Receiver[] = [];
  for (const client of clients) {
    const seen = delivered(client, roomId);
    receivers.push({ client, seen, joinedAt: (await client.join(roomId)).lastSeq });
  }
  return receivers;
}

/** Room events as they arrive on the wire (live broadcasts only; gap fills come in acks). */
export function liveFrames(client: CoachClient, roomId: string): RoomEvent[] {
  const seen: RoomEvent[] = [];
  client.socket.on("room:event", (e) => e.roomId === roomId && seen.push(e));
  return seen;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each sender sends one message after another (a fresh clientId each, retried by the SDK with
 * the same id until acked) until stopped or `max` are sent. A send that fails for good makes
 * `stop()` and `finished()` reject.
 */
export class SendStream {
  /** clientId → the seq its ack reported. */
  readonly acked = new Map<string, number>();
  private stopped = false;
  private readonly loops: Promise<void>[];

  constructor(senders: CoachClient[], roomId: string, options: { tag: string; max: number; pauseMs: number }) {
    this.loops = senders.map(async (sender, s) => {
      for (let n = 0; n < options.max && !this.stopped; n++) {
        const clientId = `${options.tag}-${s}-${n}`;
        const { seq } = await sender.send(roomId, { text: `${options.tag} sender ${s} message ${n}` }, clientId);
        this.acked.set(clientId, seq);
        await sleep(options.pauseMs);
      }
    });
    // Failures surface in stop(); until then they must not crash the runner.
    for (const loop of this.loops) loop.catch(() => {});
  }

  /** Waits until `more` sends beyond those acked now have been acked. */
  async advance(more: number, what: string): Promise<void> {
    const target = this.acked.size + more;
    await eventually(() => this.acked.size >= target, what, 30_000);
  }

  /** Waits until every sender has sent its `max` and each was acked. */
  async finished(): Promise<void> {
    await Promise.all(this.loops);
  }

  /** Stops sending and waits for every send in flight to be acked. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.finished();
  }
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * Waits until every receiver has reached the room's last seq, then checks: the log is seqs
 * 1..head with one row per clientId; every acked send is stored exactly once, at the seq its
 * ack gave; every receiver was handed one gap-free, repeat-free run from no later than its join
 * to head, each event the one stored at its seq.
 */
export async function auditRoom(db: Db, roomId: string, acked: ReadonlyMap<string, number>, receivers: Receiver[]): Promise<void> {
  const head = (await db.query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1", [roomId])).rows[0]!.last_seq;
  await eventually(() => receivers.every((r) => r.client.cursor(roomId) === head), `every receiver reaches seq ${head}`, 20_000);

  const rows = await storedEvents(db, roomId);
  assert.deepEqual(rows.map((r) => r.seq), range(1, head), "room_events holds seqs 1..last_seq");
  const bySeq = new Map(rows.map((r) => [r.seq, r.client_id]));
  const stored = new Map<string, number[]>();
  for (const r of rows) if (r.client_id !== null) stored.set(r.client_id, [...(stored.get(r.client_id) ?? []), r.seq]);
  for (const [clientId, seq] of acked) {
    assert.deepEqual(stored.get(clientId), [seq], `acked send ${clientId} is stored exactly once, at seq ${seq}`);
  }
  for (const [i, { seen, joinedAt }] of receivers.entries()) {
    assert.ok(seen.length > 0, `receiver ${i} was handed events`);
    const seqs = seen.map((e) => e.seq);
    assert.ok(seqs[0]! <= joinedAt + 1, `receiver ${i} was handed everything after its join (first seq ${seqs[0]}, joined at ${joinedAt})`);
    assert.deepEqual(seqs, range(seqs[0]!, head), `receiver ${i} was handed a contiguous run of seqs ending at ${head}`);
    for (const e of seen) assert.equal(e.clientId, bySeq.get(e.seq), `receiver ${i}'s seq ${e.seq} is the stored event`);
  }
}
