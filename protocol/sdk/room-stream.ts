import type { RoomEvent } from "../events.ts";

/**
 * One joined room's event stream, as the app sees it: each event exactly once and in seq order.
 * Events that arrive early wait in a buffer; repeats and events at or below the cursor are
 * dropped; a gap left open for `gapWaitMs` is asked for, page by page, after the cursor. The
 * cursor is the resume point: the highest seq handed to the app, which a rejoin passes as
 * `since`.
 *
 * No socket and no clock of its own: the page fetch and the timer come from its
 * {@link RoomStreamContext}, so the whole policy can be driven step by step.
 */

/** The one timer a stream needs: the wait before it asks for a gap. */
export interface GapTimer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** One page of the room's log after a seq (what `room:history {after, limit}` answers). */
export interface LogPage {
  events: RoomEvent[];
  hasMore: boolean;
}

/** The join's answer, as far as the stream is concerned. */
export interface JoinAnswer {
  events: RoomEvent[];
  /** The room's last seq when the join was answered. */
  lastSeq: number;
  /** True when more events were missed than the answer carries: the rest is paged. */
  truncated?: boolean;
}

/** What a stream needs from the client it belongs to. */
export interface RoomStreamContext {
  /** Hands one event to the app (called in seq order, once per seq). */
  deliver(event: RoomEvent): void;
  /** Fetches a page of the log after `after`; rejects when the request fails or is refused. */
  pageAfter(after: number, limit: number): Promise<LogPage>;
  /** False while there is no connection to ask over: the rejoin after reconnecting resumes then. */
  canFill(): boolean;
  timer: GapTimer;
  /** How long a gap may stay open before it is asked for (events from other processes may arrive slightly out of order). */
  gapWaitMs: number;
}

/** How many events one gap-fill request asks for. */
export const FILL_PAGE_LIMIT = 200;

export class RoomStream {
  private position: number;
  private isReady: boolean;
  private readonly buffer = new Map<number, RoomEvent>();
  private gapTimer: unknown = undefined;
  private filling = false;
  private stopped = false;

  /**
   * A stream for a room being joined. With `since` it resumes after that seq; without it the
   * first join's answer decides where it starts, and live events wait until then.
   */
  constructor(
    private readonly ctx: RoomStreamContext,
    since?: number,
  ) {
    this.position = since ?? 0;
    this.isReady = since !== undefined;
  }

  /** The resume point: the highest seq handed to the app (or the `since` it was made with). */
  get cursor(): number {
    return this.position;
  }

  /** False until the first join answered (with no `since`, the cursor is not known before). */
  get ready(): boolean {
    return this.isReady;
  }

  /** Events held back, waiting for a gap before them to close. */
  get waiting(): number {
    return this.buffer.size;
  }

  /** What the next `room:join` passes as `since`: the cursor once known, else nothing (recent events). */
  joinSince(): number | undefined {
    return this.isReady ? this.position : undefined;
  }

  /** Takes a join's answer: a first join sets the cursor just before its events; all of them are then delivered in order. */
  joined(answer: JoinAnswer): void {
    if (!this.isReady) {
      this.position = answer.events.length > 0 ? answer.events[0]!.seq - 1 : answer.lastSeq;
      this.isReady = true;
    }
    for (const event of answer.events) this.buffer.set(event.seq, event);
    this.drain();
    if (answer.truncated) void this.fill();
  }

  /** Takes one live event (a broadcast): delivered now if it is next, held if early, dropped if already delivered. */
  accept(event: RoomEvent): void {
    if (this.isReady && event.seq <= this.position) return;
    this.buffer.set(event.seq, event);
    if (this.isReady) this.drain();
  }

  /**
   * Pages forward from the cursor until the gap (or a truncated backlog) is filled. One fill at
   * a time; a failed page ends it quietly (the rejoin after a reconnect resumes from the cursor);
   * a gap still open afterwards is asked for again after the wait.
   */
  async fill(): Promise<void> {
    if (this.stopped || this.filling || !this.ctx.canFill()) return;
    this.filling = true;
    try {
      for (;;) {
        const page = await this.ctx.pageAfter(this.position, FILL_PAGE_LIMIT);
        for (const event of page.events) this.buffer.set(event.seq, event);
        const before = this.position;
        this.deliverInOrder();
        if (!page.hasMore || this.position === before) break;
      }
    } catch {
      return;
    } finally {
      this.filling = false;
    }
    if (!this.stopped) this.drain();
  }

  /** Cancels a pending gap wait (the client is closing); the cursor stays readable. */
  cancelGapWait(): void {
    if (this.gapTimer !== undefined) this.ctx.timer.clear(this.gapTimer);
    this.gapTimer = undefined;
  }

  /** The room was left or this user removed from it: no more fills or waits. */
  stop(): void {
    this.stopped = true;
    this.cancelGapWait();
  }

  /** Delivers what is in order, then, if a gap is left, schedules a fill after the wait. */
  private drain(): void {
    this.deliverInOrder();
    if (this.buffer.size > 0 && this.gapTimer === undefined && !this.filling && !this.stopped) {
      this.gapTimer = this.ctx.timer.set(() => {
        this.gapTimer = undefined;
        void this.fill();
      }, this.ctx.gapWaitMs);
    }
  }

  private deliverInOrder(): void {
    for (const seq of this.buffer.keys()) if (seq <= this.position) this.buffer.delete(seq);
    let next = this.buffer.get(this.position + 1);
    while (next) {
      this.buffer.delete(next.seq);
      this.position = next.seq;
      this.ctx.deliver(next);
      next = this.buffer.get(this.position + 1);
    }
  }
}
