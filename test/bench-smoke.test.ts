import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { ReportedRun } from "../bench/report/report.ts";
import { haproxyInstalled } from "../server/stack.ts";
import { postgresAvailable, REQUIRE_SERVICES } from "./support/databases.ts";
import { redisAvailable } from "./support/redis-keyspace.ts";

// `npm run bench -- --smoke` (a few hundred users, ~12 s of chat, tasks, progress reports, read
// receipts, and the job worker's reminders) through the whole stack. It fails on what the audit
// finds — a lost or duplicated event, task, report or notice, a wrong solved total, a reminder
// missing or sent to a student already done — never on timing.

const ROOT = new URL("..", import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), "coachwire-bench-"));
after(() => rmSync(out, { recursive: true, force: true }));

const ready = haproxyInstalled() && (await postgresAvailable()) && (await redisAvailable());
if (!ready && REQUIRE_SERVICES) throw new Error("the bench smoke run needs HAProxy, PostgreSQL and Redis (TEST_REQUIRE_SERVICES=1)");

test("bench --smoke: every acked send, task, report and reminder stored once, every total right, every user delivered every seq once", { skip: !ready && "needs HAProxy, PostgreSQL and Redis" }, async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("COACHWIRE_")));
  const child = spawn(process.execPath, ["--import", "tsx", "bench/cli.ts", "--smoke", "--out", out], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, output.slice(-3000));
  const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as { runs: ReportedRun[] };
  const run = report.runs[0]!;
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
  assert.ok(readFileSync(join(out, "report.html"), "utf8").includes("<svg"), "the HTML report has its charts");
});
