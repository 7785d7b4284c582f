import { RoomLogWriter } from "../server/log/log-transaction.ts";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Mailer } from "../server/mail/mailer.ts";
import type { MailMessage, MailTransport } from "../server/mail/mail-transport.ts";
import { Outbox, type OutgoingMail } from "../server/mail/outbox.ts";
import { Redis } from "ioredis";
import { BullJobQueue, bullPrefix, startBullWorker } from "../worker/bullmq-runner.ts";
import { EmbeddedRunner } from "../worker/embedded-runner.ts";
import type { MailContext } from "../worker/job-context.ts";
import { availableDrivers, openPostgres, openTestDatabase, postgresAvailable, type TestDatabase } from "./support/databases.ts";
import { deleteKeys, freshPrefix, REDIS_URL, redisAvailable } from "./support/redis-keyspace.ts";
import { eventually } from "./support/server.ts";

/**
 * Mail as a background job on the embedded runner: queued in the outbox by natural key (once),
 * delivered by the mail job, retried with backoff when SMTP fails, marked failed after the last
 * attempt, never sent twice, and — with no SMTP configured — kept in the outbox with its link
 * handed to the log. The SMTP side is a recording transport (the seam nodemailer sits behind).
 */

/** A transport that fails its first `failures` sends, then records each message. */
function flakyTransport(failures: number): MailTransport & { sent: MailMessage[]; tries: number } {
  const t = {
    sent: [] as MailMessage[],
    tries: 0,
    async send(message: MailMessage) {
      t.tries++;
      if (t.tries <= failures) throw new Error(`smtp down (${t.tries})`);
      t.sent.push(message);
    },
    close() {},
  };
  return t;
}

let n = 0;
const mail = (): OutgoingMail => {
  const key = `test:${Date.now()}:${++n}`;
  return { naturalKey: key, institutionId: "demo", to: `to${n}@mail.test`, subject: `Subject ${n}`, text: `Open http://x/invite#token=abcdefghijklmnopqrstuvwxyz${n}`, link: `http://x/invite#token=abcdefghijklmnopqrstuvwxyz${n}` };
};

for (const driver of await availableDrivers()) {
  describe(`mail through the outbox and the embedded runner (${driver})`, () => {
    let tdb: TestDatabase;
    let runner: EmbeddedRunner;
    let mailer: Mailer;
    let transport: MailTransport | undefined;
    const kept: Array<{ to: string; link: string | null }> = [];
    const ctx: MailContext = {
      get transport() {
        return transport;
      },
      from: "coachwire <test@mail.test>",
      maxAttempts: 3,
      kept: (m) => kept.push(m),
    };

    before(async () => {
      tdb = await openTestDatabase(driver);
      runner = new EmbeddedRunner(tdb.db, { pollMs: 20, attempts: 3, leaseMs: 60_000 });
      runner.start({ db: tdb.db, log: new RoomLogWriter(tdb.db, () => {}), now: Date.now, digestHour: 18, mail: ctx });
      mailer = new Mailer(tdb.db, runner, (err) => assert.fail(String(err)));
    });
    after(async () => {
      await runner.close();
      await tdb.drop();
    });

    const row = async (key: string) => (await tdb.db.query<{ status: string; attempts: number; transport: string | null; body_text: string; link: string | null; last_error: string | null }>("SELECT * FROM outbox WHERE natural_key = $1", [key])).rows[0]!;
    const jobGone = (key: string) => async () => !(await runner.waiting()).some((j) => j.id === `mail:${key}`);

    test("queueing the same natural key twice is one row", async () => {
      const m = mail();
      assert.equal(await Outbox.queue(tdb.db, m), true);
      assert.equal(await Outbox.queue(tdb.db, { ...m, subject: "other" }), false);
      const rows = await tdb.db.query("SELECT subject FROM outbox WHERE natural_key = $1", [m.naturalKey]);
      assert.deepEqual(rows.rows, [{ subject: m.subject }]);
      // Delivered (to the outbox) so that no later test's transport sees it.
      transport = undefined;
      mailer.dispatch([m.naturalKey]);
      await eventually(async () => (await row(m.naturalKey)).status === "sent", "the mail job ran");
    });

    test("without SMTP the mail is kept in the outbox and its link goes to the log", async () => {
      transport = undefined;
      const m = mail();
      await Outbox.queue(tdb.db, m);
      mailer.dispatch([m.naturalKey]);
      await eventually(async () => (await row(m.naturalKey)).status === "sent", "the mail job ran");
      const r = await row(m.naturalKey);
      assert.deepEqual([r.transport, r.attempts, r.link], ["outbox", 1, m.link]);
      assert.deepEqual(kept.at(-1), { to: m.to, subject: m.subject, link: m.link });
    });

    test("a failing SMTP send is retried with backoff and the mail goes out once; its token is cut from the stored text", async () => {
      const smtp = flakyTransport(2);
      transport = smtp;
      const m = mail();
      await Outbox.queue(tdb.db, m);
      mailer.dispatch([m.naturalKey, m.naturalKey]);
      await eventually(async () => (await row(m.naturalKey)).status === "sent", "sent after two failures", 20_000);
      await eventually(jobGone(m.naturalKey), "the job left the schedule");
      const r = await row(m.naturalKey);
      assert.deepEqual([r.transport, r.attempts, r.link], ["smtp", 3, null]);
      assert.equal(r.body_text, "Open http://x/invite#token=(removed)");
      assert.equal(smtp.sent.length, 1);
      assert.equal(smtp.sent[0]!.text, m.text, "the recipient got the link");
      assert.match(smtp.sent[0]!.messageId, /^<[0-9a-f]{32}@coachwire>$/);
      // Dispatching it again (a restart's resume, a repeated request) sends nothing.
      mailer.dispatch([m.naturalKey]);
      await mailer.resume();
      await eventually(jobGone(m.naturalKey), "the repeat ran");
      assert.equal(smtp.sent.filter((s) => s.to === m.to).length, 1, "still sent once");
    });

    test("after the last attempt the mail is marked failed with the error", async () => {
      const smtp = flakyTransport(100);
      transport = smtp;
      const m = mail();
      await Outbox.queue(tdb.db, m);
      mailer.dispatch([m.naturalKey]);
      await eventually(async () => (await row(m.naturalKey)).status === "failed", "failed after 3 attempts", 20_000);
      const r = await row(m.naturalKey);
      assert.deepEqual([r.attempts, r.last_error], [3, "smtp down (3)"]);
      assert.equal(smtp.sent.length, 0);
    });
  });
}

const bullSkip = !(await postgresAvailable()) || !(await redisAvailable()) ? "needs PostgreSQL and Redis" : false;

describe("mail through the outbox and a BullMQ worker (PostgreSQL + Redis)", { skip: bullSkip }, () => {
  let tdb: TestDatabase;
  let prefix: string;
  let queue: BullJobQueue;
  let worker: ReturnType<typeof startBullWorker>;
  const smtp = flakyTransport(1);

  before(async () => {
    tdb = await openPostgres();
    prefix = freshPrefix();
    const options = { url: REDIS_URL, prefix: bullPrefix(prefix), attempts: 3 };
    queue = new BullJobQueue(options);
    // As `npm run worker` builds it: its own pool, and the mail context from config.
    const ctx: MailContext = { transport: smtp, from: "coachwire <test@mail.test>", maxAttempts: 3, kept: () => {} };
    const workerDb = await tdb.openAnother();
    worker = startBullWorker({ ...options, concurrency: 2 }, { db: workerDb, log: new RoomLogWriter(workerDb, () => {}), now: Date.now, digestHour: 18, mail: ctx }, queue);
    worker.on("error", () => {});
  });
  after(async () => {
    await worker?.close();
    await queue?.close();
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await deleteKeys(redis, prefix).finally(() => redis.quit());
    await tdb?.drop();
  });

  test("a mail dispatched (twice) from a server's Mailer is sent by the worker once, after a failed try", async () => {
    const m = mail();
    await Outbox.queue(tdb.db, m);
    const mailer = new Mailer(tdb.db, queue, (err) => assert.fail(String(err)));
    mailer.dispatch([m.naturalKey]);
    mailer.dispatch([m.naturalKey]);
    const row = async () => (await tdb.db.query<{ status: string; attempts: number; transport: string | null }>("SELECT status, attempts, transport FROM outbox WHERE natural_key = $1", [m.naturalKey])).rows[0]!;
    await eventually(async () => (await row()).status === "sent", "the worker sent it", 20_000);
    assert.deepEqual(await row(), { status: "sent", attempts: 2, transport: "smtp" });
    assert.equal(smtp.sent.filter((s) => s.to === m.to).length, 1);
  });
});
