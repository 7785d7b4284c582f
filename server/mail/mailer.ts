import type { Db } from "../../db/db.ts";
import { jobIds, type JobQueue } from "../../worker/jobs.ts";
import { Outbox } from "./outbox.ts";

/**
 * Hands queued outbox rows to the job queue (BullMQ, or the embedded runner), one job per
 * mail, its id taken from the mail's natural key: dispatching twice is one job, one send.
 */
export class Mailer {
  constructor(
    private readonly db: Db,
    private readonly jobs: JobQueue,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** After the transaction that queued them committed: send these mails in the background. */
  dispatch(naturalKeys: readonly string[]): void {
    for (const naturalKey of naturalKeys) {
      this.jobs.upsert({ id: jobIds.mail(naturalKey), kind: "mail", payload: { naturalKey }, runAt: Date.now() }).catch(this.onError);
    }
  }

  /** At start-up: mail queued by a process that stopped before handing it on is dispatched again. */
  async resume(): Promise<void> {
    this.dispatch(await Outbox.waiting(this.db));
  }
}
