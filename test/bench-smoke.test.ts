import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { haproxyInstalled } from "../server/stack.ts";
import { runBenchCli } from "./support/bench-cli.ts";
import { postgresAvailable, REQUIRE_SERVICES } from "./support/databases.ts";
import { redisAvailable } from "./support/redis-keyspace.ts";

// `npm run bench -- --smoke` (a few hundred users, ~12 s of chat, tasks, progress reports, read
// receipts, and the job worker's reminders) through the whole stack. It fails on what the audit
// finds — a lost or duplicated event, task, report or notice, a wrong solved total, a reminder
// missing or sent to a student already done — never on timing.

const ready = haproxyInstalled() && (await postgresAvailable()) && (await redisAvailable());
if (!ready && REQUIRE_SERVICES) throw new Error("the bench smoke run needs HAProxy, PostgreSQL and Redis (TEST_REQUIRE_SERVICES=1)");

test("bench --smoke: every acked send, task, report and reminder stored once, every total right, every user delivered every seq once", { skip: !ready && "needs HAProxy, PostgreSQL and Redis" }, async () => {
  const { run, output, dir } = await runBenchCli(["--smoke"]);
  assert.equal(run.connections.failed, 0);
  assert.ok(run.acks > 0, "the smoke run sent something");
  assert.deepEqual([run.audit.ok, run.audit.lost, run.audit.duplicated], [true, 0, 0]);
  assert.equal(run.audit.ackedSends, run.acks);
  // The coaching traffic ran and the audit held the database to every answer it got.
  const coaching = run.audit.coaching!;
  assert.ok(run.coaching.tasksCreated > 0 && run.coaching.reports > 0 && run.coaching.resent > 0, JSON.stringify(run.coaching));
  assert.deepEqual([coaching.lost, coaching.duplicated, coaching.mismatches], [0, 0, 0]);
  assert.deepEqual([coaching.tasksAcked, coaching.reportsAcked, coaching.resent], [run.coaching.tasksCreated, run.coaching.reports, run.coaching.resent]);
  assert.equal(coaching.duplicatesAnswered, coaching.resent, "every resend was answered duplicate with its first seq");
  assert.ok(coaching.assigneesChecked > 0 && coaching.readMarksChecked > 0);
  // Every room's first task is due ~65 s after the start, so its reminder (1 min before, no
  // quiet hours) falls inside the measured phase: reminders were sent, every student not done
  // by then has exactly one, and every notice is in the log once and reached its recipient.
  const notices = run.audit.notices!;
  assert.ok(notices.kinds.reminder.sent > 0, JSON.stringify(notices));
  assert.ok(notices.reminders.windows > 0 && notices.reminders.expected > 0, JSON.stringify(notices.reminders));
  const failedJobs = output.split("\n").filter((l) => /^job \S+ failed:/.test(l));
  assert.equal(notices.reminders.found, notices.reminders.expected, failedJobs.join("\n") || "no reminder job failed");
  assert.deepEqual([notices.lost, notices.duplicated, notices.mismatches], [0, 0, 0]);
  assert.ok(readFileSync(join(dir, "report.html"), "utf8").includes("<svg"), "the HTML report has its charts");
});
