import type { Db } from "../db/db.ts";
import type { Config } from "../server/config.ts";
import type { Logger } from "pino";
import { BullJobQueue, bullPrefix } from "./bullmq-runner.ts";
import { EmbeddedRunner } from "./embedded-runner.ts";

/** BullMQ jobs on Redis when REDIS_URL is set (run by `npm run worker`), else the embedded runner (run in-process). */
export function jobQueueFor(config: Config, db: Db, logger: Logger): BullJobQueue | EmbeddedRunner {
  return config.redis.url
    ? new BullJobQueue({ url: config.redis.url, prefix: bullPrefix(config.redis.prefix), attempts: config.jobs.attempts }, (err) =>
        logger.warn({ err: err.message }, "job queue redis error"),
      )
    : new EmbeddedRunner(db, { pollMs: config.jobs.pollMs, attempts: config.jobs.attempts, leaseMs: config.jobs.leaseMs });
}
