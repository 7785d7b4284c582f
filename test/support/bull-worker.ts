import { RoomLogWriter } from "../../server/log/log-transaction.ts";
import { Job } from "bullmq";
import { Redis } from "ioredis";
import { BullJobQueue, bullJobId, bullPrefix, startBullWorker } from "../../worker/bullmq-runner.ts";
import { roomEmitter } from "../../worker/room-emitter.ts";
import type { TestDatabase } from "./databases.ts";
import { deleteKeys, REDIS_URL } from "./redis-keyspace.ts";

/** A BullMQ job worker running in the test process, for servers started with this Redis prefix. */
export interface InProcessWorker {
  /** The queue, as a second producer (what the test plans or inspects). */
  queue: BullJobQueue;
  /** The BullMQ job of one of our job ids, if it exists. */
  job(id: string): Promise<Job | undefined>;
  /** Stops the worker and removes every key of the prefix. */
  close(): Promise<void>;
}

/**
 * Starts a worker as `npm run worker` builds it (worker/main.ts) — its own database pool and Redis
 * connection, its fan-out's publisher as its sink (the servers' COACHWIRE_REDIS_ADAPTER: `adapter`) —
 * with one attempt per job, so a failure shows at once.
 */
export async function startInProcessWorker(
  tdb: TestDatabase,
  prefix: string,
  digestHour: number,
  concurrency = 4,
  adapter: "classic" | "sharded" = "classic",
): Promise<InProcessWorker> {
  const options = { url: REDIS_URL, prefix: bullPrefix(prefix), attempts: 1 };
  const queue = new BullJobQueue(options);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const db = await tdb.openAnother();
  const worker = startBullWorker(
    { ...options, concurrency },
    {
      db,
      log: new RoomLogWriter(db, roomEmitter(redis, { url: REDIS_URL, prefix, adapter })),
      now: Date.now,
      digestHour,
      // As worker/main.ts without SMTP: mail is kept in the outbox.
      mail: { transport: undefined, from: "coachwire <test@coachwire.invalid>", maxAttempts: 1, kept: () => {} },
    },
    queue,
  );
  worker.on("error", () => {}); // connection hiccups while closing; job failures surface through the job
  return {
    queue,
    job: (id) => Job.fromId(queue.queue, bullJobId(id)),
    async close() {
      await worker.close();
      await queue.close();
      await deleteKeys(redis, prefix);
      await redis.quit();
    },
  };
}
