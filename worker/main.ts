import { RoomLogWriter } from "../server/log/log-transaction.ts";
import { BullJobQueue, bullPrefix, startBullWorker } from "./bullmq-runner.ts";
import { roomEmitter } from "./room-emitter.ts";
import { serveWorkerMetrics } from "./worker-metrics.ts";
import { openDb } from "../db/open.ts";
import { configOrExit } from "../server/config-or-exit.ts";
import { createLogger } from "../server/logger.ts";
import { connectRedis } from "../server/redis/redis-connection.ts";
import { mailContext } from "../server/mail/mail-context.ts";

// `npm run worker`: BullMQ workers for reminders and overdue notices. They write through the same
// append path as the server and broadcast through the servers' fan-out (COACHWIRE_REDIS_ADAPTER:
// classic or sharded) to every server process. Scale by running more of them. SIGTERM lets running jobs finish (or returns them to the queue) and exits.

const config = configOrExit();
const logger = createLogger(config.logLevel).child({ module: "worker" });
if (!config.redis.url) {
  logger.fatal("REDIS_URL is required: without Redis the server runs these jobs in-process (no worker needed)");
  process.exit(78);
}
const db = await openDb(config.db);
const redis = connectRedis(config.redis.url, "publisher", logger, () => {});
const options = { url: config.redis.url, prefix: bullPrefix(config.redis.prefix), attempts: config.jobs.attempts };
const queue = new BullJobQueue(options, (err) => logger.warn({ err: err.message }, "job queue redis error"));
const worker = startBullWorker({ ...options, concurrency: config.jobs.concurrency }, { db, log: new RoomLogWriter(db, roomEmitter(redis, config.redis, (err) => logger.warn({ err }, "could not publish to the servers"))), now: Date.now, digestHour: config.jobs.digestHour, parentDigestWeekday: config.parents.digestWeekday, mail: mailContext(config, logger) }, queue);
worker.on("failed", (job, err) => logger.warn({ err, job: job?.id }, "job failed"));
worker.on("error", (err) => logger.error({ err }, "worker error"));
const metrics = serveWorkerMetrics(config.jobs.metricsPort, config.host, worker, queue.queue);
logger.info({ concurrency: config.jobs.concurrency, metricsPort: config.jobs.metricsPort }, "worker running");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "worker stopping");
  await worker.close();
  await queue.close();
  metrics.close();
  await redis.quit().catch(() => redis.disconnect());
  await db.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
