/** What a {@link FlushLoop} drives: how much is queued and how to write a batch of it. */
export interface FlushTarget {
  /** How long the first queued item waits for company before a batch is written. */
  flushMs: number;
  /** True when a batch should be written at once (the queue is full). */
  full(): boolean;
  /** True while something is queued. */
  queued(): boolean;
  /** Takes a batch off the queue and writes it; never rejects (failures are the target's to answer). */
  writeBatch(): Promise<void>;
}

/**
 * The group-commit timing every batched writer of the room log shares (chat's persister, read
 * marks): one batch in flight at a time; the first queued item starts a timer, a full queue
 * writes at once, and what queued during a write is written as soon as it ends (it has already
 * waited). The owner queues, then calls {@link nudge}.
 */
export class FlushLoop {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly target: FlushTarget) {}

  /** Something was queued: write now if the queue is full, else within flushMs. */
  nudge(): void {
    if (this.inFlight) return; // the running batch picks the queue up when it ends
    if (this.target.full()) this.start();
    else this.timer ??= setTimeout(() => this.start(), this.target.flushMs);
  }

  /** Writes everything queued so far and waits for it (drain, shutdown, tests). */
  async flush(): Promise<void> {
    while (this.target.queued() || this.inFlight) {
      if (this.inFlight) await this.inFlight;
      else this.start();
    }
  }

  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight || !this.target.queued()) return;
    this.inFlight = this.target.writeBatch().finally(() => {
      this.inFlight = undefined;
      if (this.target.queued()) this.start();
    });
  }
}
