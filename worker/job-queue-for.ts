import type { Db } from "../db/db.ts";
import type { Config } from "../server/config.ts";
import { BullJobQueue } from "./bullmq-runner.ts";
import { EmbeddedRunner } from "./embedded-runner.ts";

/** BullMQ jobs on Redis when REDIS_URL is set (run by `npm run worker`), else the embedded runner (run in-process). */
export function jobQueueFor(config: Config, db: Db): BullJobQueue | EmbeddedRunner {
  return config.redis.url
    ? new BullJobQueue({ url: config.redis.url, prefix: `${config.redis.prefix}bull`, attempts: config.jobs.attempts })
    : new EmbeddedRunner(db, { pollMs: config.jobs.pollMs, attempts: config.jobs.attempts, leaseMs: config.jobs.leaseMs });
}
