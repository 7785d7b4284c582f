import { EventEmitter } from "node:events";
import type { Db } from "../db/db.ts";
import { runJob } from "./handlers.ts";
import type { JobContext } from "./job-context.ts";
import type { JobKind, JobQueue, JobSpec } from "./jobs.ts";

export interface EmbeddedRunnerOptions {
  /** How often the schedule is polled for due jobs. */
  pollMs: number;
  /** Tries before a job is kept as failed (for inspection). */
  attempts: number;
  /** A claimed job that has not finished after this long is picked up again (its process died). */
  leaseMs: number;
}

interface JobRow {
  id: string;
  kind: JobKind;
  payload: unknown;
  attempts: number;
  version: number;
}

/**
 * Without Redis, the same job handlers run in-process from the scheduled_jobs table: a due job is
 * claimed by moving its run_at past a lease (so a crash mid-job hands it to the next poll), run,
 * then deleted — unless it was re-planned meanwhile. Failures retry with exponential backoff and
 * are kept as 'failed' after the last attempt. Emits "completed", "failed" ({id, err}) and "error".
 */
export class EmbeddedRunner extends EventEmitter implements JobQueue {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private ctx: JobContext | undefined;

  constructor(
    private readonly db: Db,
    private readonly options: EmbeddedRunnerOptions,
  ) {
    super();
  }

  async upsert(job: JobSpec): Promise<void> {
    await this.db.query(
      `INSERT INTO scheduled_jobs (id, kind, payload, run_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, payload = EXCLUDED.payload, run_at = EXCLUDED.run_at,
         attempts = 0, state = 'waiting', last_error = NULL, version = scheduled_jobs.version + 1, updated_at = clock_timestamp()`,
      [job.id, job.kind, JSON.stringify(job.payload), new Date(job.runAt)],
    );
  }

  async remove(id: string): Promise<void> {
    await this.db.query("DELETE FROM scheduled_jobs WHERE id = $1", [id]);
  }

  async waiting(): Promise<{ id: string; runAt: number }[]> {
    const res = await this.db.query<{ id: string; run_at: Date }>("SELECT id, run_at FROM scheduled_jobs WHERE state = 'waiting' ORDER BY run_at, id");
    return res.rows.map((r) => ({ id: r.id, runAt: r.run_at.getTime() }));
  }

  /** Starts polling, running due jobs with `ctx`. */
  start(ctx: Omit<JobContext, "queue">): void {
    this.ctx = { ...ctx, queue: this };
    const tick = () => {
      this.running = this.runDue().catch((err) => void this.emit("error", err));
      void this.running.finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops polling and waits for the jobs being run. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Claims and runs every job due now. */
  async runDue(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const claimed = await this.db.query<JobRow>(
        `UPDATE scheduled_jobs SET run_at = clock_timestamp() + $1 * interval '1 millisecond', attempts = attempts + 1, updated_at = clock_timestamp()
          WHERE id = (SELECT id FROM scheduled_jobs WHERE state = 'waiting' AND run_at <= clock_timestamp() ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING id, kind, payload, attempts, version`,
        [this.options.leaseMs],
      );
      const job = claimed.rows[0];
      if (!job) return;
      await this.runOne(job);
    }
  }

  private async runOne(job: JobRow): Promise<void> {
    try {
      const outcome = await runJob(this.ctx!, job.kind, job.payload);
      // Re-planned while running (version moved): keep the new plan.
      if (outcome?.deferUntil) {
        await this.db.query("UPDATE scheduled_jobs SET run_at = $3, attempts = 0 WHERE id = $1 AND version = $2", [job.id, job.version, new Date(outcome.deferUntil)]);
      } else {
        await this.db.query("DELETE FROM scheduled_jobs WHERE id = $1 AND version = $2", [job.id, job.version]);
      }
      this.emit("completed", { id: job.id, kind: job.kind });
    } catch (err) {
      const last = job.attempts >= this.options.attempts;
      await this.db.query(
        `UPDATE scheduled_jobs SET state = $3, last_error = $4, run_at = clock_timestamp() + $5 * interval '1 millisecond'
          WHERE id = $1 AND version = $2`,
        [job.id, job.version, last ? "failed" : "waiting", String((err as Error)?.message ?? err), 1000 * 2 ** (job.attempts - 1)],
      );
      this.emit("failed", { id: job.id, kind: job.kind, err });
    }
  }
}
