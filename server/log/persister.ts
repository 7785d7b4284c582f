import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { CoachwireError } from "../../protocol/errors.ts";
import type { RoomEvent } from "../../protocol/events.ts";
import type { Db } from "../../db/db.ts";
import { FlushLoop } from "./flush-loop.ts";
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
  private readonly loop: FlushLoop;
  private closed = false;

  constructor(
    private readonly db: Db,
    options: PersisterOptions,
    private readonly sink: CommitSink,
    private readonly logger: Logger,
  ) {
    super();
    this.loop = new FlushLoop({
      flushMs: options.flushMs,
      full: () => this.queue.length >= options.flushMaxEvents,
      queued: () => this.queue.length > 0,
      writeBatch: () => this.write(this.queue.splice(0, options.flushMaxEvents)),
    });
  }

  /** Queues one event; resolves once its batch has committed (or failed). Never rejects. */
  append(draft: EventDraft): Promise<AppendOutcome> {
    if (this.closed) {
      return Promise.resolve({ status: "failed", error: new CoachwireError("UNAVAILABLE", "The server is shutting down") });
    }
    return new Promise((resolve) => {
      this.queue.push({ draft, resolve });
      this.loop.nudge();
    });
  }

  /** Writes everything queued so far and waits for it; used by drain and shutdown. */
  flush(): Promise<void> {
    return this.loop.flush();
  }

  /** Stops taking events and writes what is queued. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async write(batch: Pending[]): Promise<void> {
    const started = performance.now();
    try {
      const outcomes = await this.commit(batch);
      this.emit("flush", { size: batch.length, ms: performance.now() - started });
      this.publish(batch, outcomes);
    } catch (err) {
      this.emit("batchFailed", err);
      if (isDataError(err) && batch.length > 1) {
        // One event the database refuses must not fail everyone else's: write them one by one.
        this.logger.warn({ err, size: batch.length }, "batch refused by the database; writing its events one by one");
        for (const p of batch) await this.writeAlone(p);
      } else {
        this.logger.error({ err, size: batch.length }, "batch write failed");
        for (const p of batch) p.resolve({ status: "failed", error: failureFor(err) });
      }
    }
  }

  private async writeAlone(p: Pending): Promise<void> {
    try {
      this.publish([p], await this.commit([p]));
    } catch (err) {
      p.resolve({ status: "failed", error: failureFor(err) });
    }
  }

  /** One statement, so one round trip and its own transaction. */
  private commit(batch: Pending[]): Promise<AppendOutcome[]> {
    return appendEvents(this.db, batch.map((p) => p.draft));
  }

  /** After COMMIT: broadcast what is new, then answer every sender. */
  private publish(batch: Pending[], outcomes: AppendOutcome[]): void {
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

/** SQLSTATE classes 22 (data exception) and 23 (integrity violation): the event itself is at fault. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}

function failureFor(err: unknown): CoachwireError {
  if (isDataError(err)) return new CoachwireError("VALIDATION_FAILED", "The database refused this event");
  // The commit may or may not have happened: the sender retries with the same clientId, which
  // returns the stored seq if it did.
  return new CoachwireError("UNAVAILABLE", "Could not store the event; retry with the same clientId");
}
