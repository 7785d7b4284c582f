import { DelayedError, Queue, Worker, type ConnectionOptions, type Job } from "bullmq";
import { runJob } from "./handlers.ts";
import type { JobContext } from "./job-context.ts";
import type { JobKind, JobQueue, JobSpec } from "./jobs.ts";

export const QUEUE_NAME = "coachwire-notices";

/** BullMQ refuses a custom job id with ":" unless it has exactly three parts; ours have two to four, so ":" is stored as "/". */
export const bullJobId = (id: string): string => id.replaceAll(":", "/");
const fromBullJobId = (id: string): string => id.replaceAll("/", ":");

/**
 * BullMQ's key prefix for a deployment's Redis prefix. The braces are a Redis Cluster hash tag:
 * every key of the queue lands in one slot, as BullMQ needs on a cluster.
 */
export const bullPrefix = (redisPrefix: string): string => `{${redisPrefix}bull}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface BullOptions {
  /** Redis URL (BullMQ opens its own connections). */
  url: string;
  /** Key prefix (BullMQ's `prefix`): {@link bullPrefix} of the Redis prefix. */
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

  constructor(
    private readonly options: BullOptions,
    onError: (err: Error) => void = () => {},
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: connection(options.url, false), prefix: options.prefix });
    this.queue.on("error", onError);
  }

  async upsert(job: JobSpec): Promise<void> {
    const id = bullJobId(job.id);
    // BullMQ neither removes a running job nor adds one whose id exists: wait (briefly) for a
    // running job of this id to finish, or the new plan would be dropped.
    for (let waited = 0; waited < 5000 && (await this.queue.getJobState(id)) === "active"; waited += 100) await sleep(100);
    await this.queue.remove(id);
    const now = Date.now();
    await this.queue.add(job.kind, job.payload, {
      jobId: id,
      timestamp: now,
      delay: Math.max(0, job.runAt - now),
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
    return this.jobsIn(["delayed", "waiting", "prioritized"]);
  }

  /** The jobs not finished yet: waiting to run, or running now. */
  async unfinished(): Promise<{ id: string; runAt: number }[]> {
    return this.jobsIn(["delayed", "waiting", "prioritized", "active"]);
  }

  /** The jobs that failed for good (kept for inspection), with why. */
  async failed(): Promise<{ id: string; reason: string }[]> {
    const jobs = await this.queue.getJobs(["failed"]);
    return jobs.filter((j) => j?.id).map((j) => ({ id: fromBullJobId(j.id!), reason: j.failedReason }));
  }

  private async jobsIn(states: ("delayed" | "waiting" | "prioritized" | "active")[]): Promise<{ id: string; runAt: number }[]> {
    const jobs = await this.queue.getJobs(states);
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
  const processor = async (job: Job, token?: string) => {
    const outcome = await runJob({ ...ctx, queue }, job.name as JobKind, job.data);
    if (outcome?.deferUntil) {
      // Quiet hours: this job waits again, as itself (BullMQ's way to delay a running job).
      await job.moveToDelayed(outcome.deferUntil, token);
      throw new DelayedError();
    }
  };
  return new Worker(QUEUE_NAME, processor, {
    connection: connection(options.url, true),
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: 10_000,
    stalledInterval: 5000,
    maxStalledCount: 3,
  });
}
