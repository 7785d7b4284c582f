import { Queue, Worker, type ConnectionOptions } from "bullmq";
import { runJob } from "./handlers.ts";
import type { JobContext } from "./job-context.ts";
import type { JobKind, JobQueue, JobSpec } from "./jobs.ts";

export const QUEUE_NAME = "coachwire-notices";

/** BullMQ refuses a custom job id with ":" unless it has exactly three parts; ours have two to four, so ":" is stored as "/". */
export const bullJobId = (id: string): string => id.replaceAll(":", "/");
const fromBullJobId = (id: string): string => id.replaceAll("/", ":");

export interface BullOptions {
  /** Redis URL (BullMQ opens its own connections). */
  url: string;
  /** Key prefix (BullMQ's `prefix`), e.g. "coachwire:bull". */
  prefix: string;
  attempts: number;
}

const connection = (url: string, worker: boolean): ConnectionOptions => {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    // BullMQ's production guidance: workers must never give up on a command (they block on Redis).
    maxRetriesPerRequest: worker ? null : 1,
  };
};

/**
 * The producer side on Redis: jobs are BullMQ delayed jobs with deterministic ids. Re-planning
 * removes the waiting job and adds the new one; a job kept as failed is removed too, so its id
 * can be planned again. Completed jobs are dropped; failed ones are kept for inspection.
 */
export class BullJobQueue implements JobQueue {
  readonly queue: Queue;

  constructor(private readonly options: BullOptions) {
    this.queue = new Queue(QUEUE_NAME, { connection: connection(options.url, false), prefix: options.prefix });
  }

  async upsert(job: JobSpec): Promise<void> {
    await this.queue.remove(bullJobId(job.id));
    await this.queue.add(job.kind, job.payload, {
      jobId: bullJobId(job.id),
      delay: Math.max(0, job.runAt - Date.now()),
      attempts: this.options.attempts,
      backoff: { type: "exponential", delay: 1000 },
      removeOnComplete: true,
      removeOnFail: { count: 10_000 },
    });
  }

  async remove(id: string): Promise<void> {
    await this.queue.remove(bullJobId(id));
  }

  async waiting(): Promise<{ id: string; runAt: number }[]> {
    const jobs = await this.queue.getJobs(["delayed", "waiting", "prioritized"]);
    return jobs
      .filter((j) => j?.id)
      .map((j) => ({ id: fromBullJobId(j.id!), runAt: j.timestamp + (j.opts.delay ?? 0) }))
      .sort((a, b) => a.runAt - b.runAt || a.id.localeCompare(b.id));
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/**
 * The consumer side: a BullMQ Worker running the job handlers. A worker that dies mid-job leaves
 * a stalled job that another worker picks up (at least once; the notices' natural keys make the
 * effect happen once). close() lets running jobs finish before it resolves.
 */
export function startBullWorker(options: BullOptions & { concurrency: number }, ctx: Omit<JobContext, "queue">, queue: JobQueue): Worker {
  return new Worker(QUEUE_NAME, (job) => runJob({ ...ctx, queue }, job.name as JobKind, job.data), {
    connection: connection(options.url, true),
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: 10_000,
    stalledInterval: 5000,
    maxStalledCount: 3,
  });
}
