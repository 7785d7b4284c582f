import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { CoachwireError } from "../../protocol/errors.ts";
import type { RoomEvent } from "../../protocol/events.ts";
import type { Db } from "../../db/db.ts";
import { appendEvents, type AppendOutcome, type EventDraft } from "./append.ts";

export interface PersisterOptions {
  /** How long the first queued event waits for company before the batch is written. */
  flushMs: number;
  /** A batch this large is written at once. */
  flushMaxEvents: number;
}

/** Called after each commit with the newly stored events, in commit (and per-room seq) order. */
export type CommitSink = (events: RoomEvent[]) => void;

interface Pending {
  draft: EventDraft;
  resolve: (outcome: AppendOutcome) => void;
}

/**
 * Group commit: events from every room of this process are queued, and one transaction at a
 * time writes a whole batch through {@link appendEvents}. Only after COMMIT are the senders
 * answered and the sink (the broadcaster) called, so nothing is acknowledged or shown to anyone
 * before it is durable. Emits "flush" ({size, ms}) and "batchFailed" (a failed batch) for metrics and logs.
 */
export class Persister extends EventEmitter {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly options: PersisterOptions,
    private readonly sink: CommitSink,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** Queues one event; resolves once its batch has committed (or failed). Never rejects. */
  append(draft: EventDraft): Promise<AppendOutcome> {
    if (this.closed) {
      return Promise.resolve({ status: "failed", error: new CoachwireError("UNAVAILABLE", "The server is shutting down") });
    }
    return new Promise((resolve) => {
      this.queue.push({ draft, resolve });
      this.schedule();
    });
  }

  /** Writes everything queued so far and waits for it; used by drain and shutdown. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight) {
      if (this.inFlight) await this.inFlight;
      else this.startBatch();
    }
  }

  /** Stops taking events and writes what is queued. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private schedule(): void {
    if (this.inFlight) return; // the running batch picks the queue up when it ends
    if (this.queue.length >= this.options.flushMaxEvents) {
      this.startBatch();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.startBatch(), this.options.flushMs);
    }
  }

  private startBatch(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.flushMaxEvents);
    this.inFlight = this.write(batch).finally(() => {
      this.inFlight = undefined;
      // Events that arrived during the write have already waited: write them now.
      if (this.queue.length > 0) this.startBatch();
    });
  }

  private async write(batch: Pending[]): Promise<void> {
    const started = performance.now();
    let outcomes: AppendOutcome[];
    try {
      outcomes = await this.db.transaction((tx) => appendEvents(tx, batch.map((p) => p.draft)));
    } catch (err) {
      this.logger.error({ err, size: batch.length }, "batch write failed");
      this.emit("batchFailed", err);
      // The commit may or may not have happened: the sender retries with the same clientId,
      // which returns the stored seq if it did.
      const error = new CoachwireError("UNAVAILABLE", "Could not store the event; retry with the same clientId");
      for (const p of batch) p.resolve({ status: "failed", error });
      return;
    }
    this.emit("flush", { size: batch.length, ms: performance.now() - started });
    const stored = outcomes.flatMap((o) => (o.status === "stored" ? [o.event] : []));
    if (stored.length > 0) {
      try {
        this.sink(stored);
      } catch (err) {
        this.logger.error({ err }, "commit sink failed");
      }
    }
    for (const [i, p] of batch.entries()) p.resolve(outcomes[i]!);
  }
}
