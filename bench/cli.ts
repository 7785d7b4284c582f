import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { deleteKeys } from "../server/redis/delete-keys.ts";
import { audit } from "./audit.ts";
import { BullJobQueue, bullPrefix } from "../worker/bullmq-runner.ts";
import { toHtml } from "./report/html.ts";
import { compareRuns, toMarkdown, type BenchReport, type ReportedRun } from "./report/report.ts";
import { noisyNeighbourMarkdown, runNoisyNeighbour } from "./noisy-neighbour.ts";
import { runScenario } from "./run.ts";
import { SCENARIOS } from "./scenarios/index.ts";
import { noisyNeighbour, smokeNoisyNeighbour } from "./scenarios/noisy-neighbour.ts";
import { hasCoaching, smoke, withoutCoaching, type Scenario } from "./scenarios/scenario.ts";
import { seedUsers } from "./seed.ts";
import { sampleCounters as sampleServerCounters } from "./server-counters.ts";
import { attachTarget, DEFAULT_REMINDER_OFFSETS_MIN, newRunId, startTarget, type Target } from "./target.ts";

// `npm run bench -- [options]`: starts the stack (HAProxy → server processes → PostgreSQL,
// Redis) on free loopback ports, seeds users, drives them from client processes with the SDK,
// audits every acked send, and writes bench/results/<run>/report.{json,md,html}.

const USAGE = `usage: npm run bench -- [--scenario coaching-day|saturation|coaching-saturation|storm|rolling-deploy|noisy-neighbour] [--users N] [--duration S]
       [--procs N] [--compare reference] [--smoke] [--parser msgpack|json] [--workers N] [--balancers N] [--out DIR]
       [--client-nice N]  (the client processes' nice value, default 10: they stand for users on other machines; 0 = as the servers)
       [--profile DIR]   (write a --cpu-prof profile of every server and client process into DIR; npm run bench:profile -- DIR sums them up)
       [--target URL --schema S [--servers URL,URL] [--reminder-offsets MIN,MIN]]   (drive a stack that is already
                         running: seed into and audit schema S of DATABASE_URL; measure the listed server processes;
                         its servers' COACHWIRE_REMINDER_OFFSETS_MIN, default ${DEFAULT_REMINDER_OFFSETS_MIN.join(",")})
coaching-saturation: task:progress reports stepped up until their ack p99 passes 100 ms (no --compare: the reference has no tasks).
storm: every user disconnects and reconnects within 10 s; time to full resume, chat delivery once resumed, round trips per resume.
rolling-deploy: coaching-day's traffic while each server process in turn is drained (SIGTERM) and restarted; --duration is the
                quiet stretch before the first step. Needs the stack the bench starts (no --target) and has no --compare.
noisy-neighbour: one server, a room of 10 chatting, floods beside it; --duration is seconds per phase, --smoke shortens it.
Traffic goes only to 127.0.0.1. Exit code 1 when an audit finds a lost or duplicated event, 2 for a wrong command line.`;

/** A wrong command line: says what is wrong, then how to use it, and exits 2 (1 is a failed audit). */
function usageError(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const { values: args } = parseArgs({
  options: {
    scenario: { type: "string", default: "coaching-day" },
    users: { type: "string" },
    duration: { type: "string" },
    procs: { type: "string" },
    compare: { type: "string" },
    smoke: { type: "boolean", default: false },
    parser: { type: "string", default: "msgpack" },
    workers: { type: "string", default: "2" },
    balancers: { type: "string", default: "2" },
    out: { type: "string" },
    profile: { type: "string" },
    "client-nice": { type: "string", default: "10" },
    target: { type: "string" },
    schema: { type: "string" },
    servers: { type: "string" },
    "reminder-offsets": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  process.stdout.write(USAGE + "\n");
  process.exit(0);
}
if (args.scenario === "noisy-neighbour") {
  // One server, one well-behaved room, floods beside it: a harness of its own (bench/noisy-neighbour.ts).
  const s = args.smoke ? smokeNoisyNeighbour(noisyNeighbour) : noisyNeighbour;
  const scenario = args.duration ? { ...s, phaseSeconds: Number(args.duration) } : s;
  const report = await runNoisyNeighbour(scenario, {
    databaseUrl: process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres",
    command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  const dir = args.out ?? join("bench", "results", `${new Date().toISOString().replace(/[:.]/g, "-")}-noisy-neighbour`);
  mkdirSync(dir, { recursive: true });
  const markdown = noisyNeighbourMarkdown(report, `${availableParallelism()} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  writeFileSync(join(dir, "report.json"), JSON.stringify(report, null, 2));
  writeFileSync(join(dir, "report.md"), markdown);
  process.stdout.write(`\n${markdown}\nReport: ${dir}/report.{json,md}\n`);
  process.exit(0);
}
const base = SCENARIOS[args.scenario as Scenario["name"]];
if (!base) usageError(`unknown scenario ${args.scenario}`);
if (args.compare !== undefined && args.compare !== "reference") usageError(`--compare takes "reference"`);
if (args.compare && base.steps?.load === "progress") {
  usageError(`--compare reference cannot run ${base.name}: the reference server has no tasks, and progress reports are all this scenario sends`);
}
if (args.target && (args.compare || !args.schema)) usageError(`--target needs --schema and cannot --compare`);
if (base.rollingDeploy && args.target) {
  usageError(`--scenario rolling-deploy restarts server processes: it runs on the stack the bench starts, not on --target ${args.target}`);
}
if (base.rollingDeploy && args.compare) {
  usageError(`--compare reference cannot run rolling-deploy: the reference has no drain (it closes its sockets without a notice to move) and no tasks`);
}
if (args["reminder-offsets"] !== undefined && !args.target) usageError(`--reminder-offsets describes a --target stack (the bench's own stack uses the scenario's)`);
const targetReminderOffsets = (args["reminder-offsets"] ?? DEFAULT_REMINDER_OFFSETS_MIN.join(",")).split(",").map(Number);
if (targetReminderOffsets.some((m) => !Number.isInteger(m) || m < 0)) usageError(`--reminder-offsets takes minutes, e.g. 1440,60`);
const parser = args.parser === "json" ? "json" : "msgpack";
let scenario: Scenario = args.smoke ? smoke(base) : base;
if (args.users) scenario = { ...scenario, users: Number(args.users) };
if (args.duration) scenario = { ...scenario, durationSeconds: Number(args.duration) };
const procs = Number(args.procs ?? Math.max(2, Math.ceil(scenario.users / 2500)));
const runId = newRunId();
const outDir = args.out ?? join("bench", "results", `${new Date().toISOString().replace(/[:.]/g, "-")}-${scenario.name}`);
const databaseUrl = process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const log = (line: string) => process.stdout.write(`${line}\n`);

async function lastSeqsOf(target: Target, rooms: string[], redis: Redis): Promise<Record<string, number>> {
  if (target.db) {
    const res = await target.db.query<{ id: string; last_seq: number }>("SELECT id, last_seq FROM rooms WHERE id = ANY($1::text[])", [rooms]);
    return Object.fromEntries(res.rows.map((r) => [r.id, r.last_seq]));
  }
  const values = await redis.mget(rooms.map((r) => `${target.redisPrefix}seq:${r}`));
  return Object.fromEntries(rooms.map((r, i) => [r, Number(values[i] ?? 0)]));
}

/**
 * Gives the job workers a bounded moment (up to 30 s) to run the reminders planned before
 * `until`, then lists the reminder jobs still unfinished: the audit does not require those yet,
 * so its verdict never depends on how fast the workers were.
 */
async function settleReminderJobs(target: Target, until: number): Promise<Set<string>> {
  const queue = new BullJobQueue({ url: redisUrl, prefix: bullPrefix(target.redisPrefix), attempts: 1 });
  try {
    const unfinished = async () => (await queue.unfinished()).filter((j) => j.id.startsWith("reminder:"));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await unfinished()).some((j) => j.runAt <= until)) await new Promise((r) => setTimeout(r, 200));
    for (const f of (await queue.failed()).filter((j) => j.id.startsWith("reminder:"))) log(`job ${f.id} failed: ${f.reason}`);
    return new Set((await unfinished()).map((j) => j.id));
  } finally {
    await queue.close();
  }
}

async function benchOne(label: Target["label"], redis: Redis): Promise<ReportedRun> {
  log(args.target ? `== ${label}: driving ${args.target}` : `== ${label}: starting the stack (${args.workers} server processes, ${args.balancers} HAProxy) …`);
  const idPrefix = `b${runId}${label[0]}`;
  const target = args.target
    ? await attachTarget(args.target, {
        databaseUrl,
        schema: args.schema!,
        serverUrls: args.servers?.split(",").filter(Boolean) ?? [],
        idPrefix,
        reminderOffsetsMin: targetReminderOffsets,
        jwtSecret: process.env["COACHWIRE_JWT_SECRET"] || undefined,
      })
    : await startTarget(label, {
    databaseUrl,
    redisUrl,
    workers: Number(args.workers),
    balancers: Number(args.balancers),
    parser,
    runId,
    ...(scenario.tasks ? { reminderOffsetsMin: scenario.tasks.reminderOffsetsMinutes } : {}),
    ...(args.profile ? { profileDir: join(args.profile, label) } : {}),
  });
  try {
    log(`== ${label}: seeding ${scenario.users} users in rooms of ${scenario.roomSize} …`);
    const users = await seedUsers(target.db, {
      users: scenario.users,
      roomSize: scenario.roomSize,
      jwtSecret: target.jwtSecret,
      tokenTtlS: 86_400,
      runId: idPrefix.slice(1),
    });
    const rooms = [...new Set(users.map((u) => u.roomId))];
    const lastSeqs = () => lastSeqsOf(target, rooms, redis);
    // The reference is plain Socket.IO: it has no tasks and no read marks to answer. When the two
    // are compared, coachwire carries the same chat-only traffic, so the ratios compare like with like.
    const skipped =
      args.compare === "reference" && hasCoaching(scenario)
        ? label === "reference"
          ? "the reference server has no tasks or read marks"
          : "compared with the reference, both carry the same chat traffic"
        : undefined;
    if (skipped) log(`== ${label}: chat only (task traffic and read receipts skipped: ${skipped})`);
    const sampleCounters = () => sampleServerCounters(target.serverUrls, redis);
    const measured = await runScenario(target, skipped ? withoutCoaching(scenario) : scenario, users, {
      procs,
      parser,
      lastSeqs,
      sampleCounters,
      onProgress: log,
      clientNice: Number(args["client-nice"]),
      ...(args.profile ? { profileDir: join(args.profile, label, "clients") } : {}),
    });
    const requiredBefore = measured.measuredWindow.endedAt;
    const verdict = await audit(target.db, measured.results, measured.settleSeqs, {
      reminderOffsetsMs: target.reminderOffsetsMs,
      requiredBefore,
      pendingJobs: label === "coachwire" && scenario.tasks ? await settleReminderJobs(target, requiredBefore) : new Set(),
    });
    const c = verdict.coaching;
    const n = verdict.notices;
    log(
      `== ${label}: audit ${verdict.ok ? "ok" : "FAILED"} — acked ${verdict.ackedSends}, lost ${verdict.lost}, duplicated ${verdict.duplicated}, gaps ${verdict.usersWithGaps}, behind ${verdict.usersBehind}` +
        (c && c.tasksAcked > 0
          ? `; tasks ${c.tasksAcked}, reports ${c.reportsAcked}, resends answered duplicate ${c.duplicatesAnswered}/${c.resent}, totals checked ${c.assigneesChecked} (wrong ${c.mismatches}), read marks ${c.readMarksChecked}`
          : "") +
        (n && scenario.tasks
          ? `; notices: reminders ${n.kinds.reminder.sent} (expected ${n.reminders.expected}, found ${n.reminders.found}), nudges ${n.kinds.nudge.sent}, ` +
            `overdue ${n.kinds.overdue.sent}, digests ${n.kinds.digest.sent}; lost ${n.lost}, duplicated ${n.duplicated}, wrong ${n.mismatches}`
          : ""),
    );
    const { results: _results, settleSeqs: _settleSeqs, ...rest } = measured;
    return { ...rest, audit: verdict, ...(skipped ? { coachingSkipped: skipped } : {}) };
  } finally {
    await target.stop();
    await deleteKeys(redis, target.redisPrefix);
  }
}

const redis = new Redis(redisUrl);
const startedAt = new Date().toISOString();
const runs: ReportedRun[] = [await benchOne("coachwire", redis)];
if (args.compare === "reference") runs.push(await benchOne("reference", redis));
await redis.quit();

const report: BenchReport = {
  startedAt,
  command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
  machine: { cpus: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  runs,
  ...(runs.length === 2 ? { ratios: compareRuns(runs[0]!, runs[1]!) } : {}),
};
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "report.json"), JSON.stringify(report, null, 2));
writeFileSync(join(outDir, "report.md"), toMarkdown(report));
writeFileSync(join(outDir, "report.html"), toHtml(report));
log("\n" + toMarkdown(report));
log(`Report: ${outDir}/report.{json,md,html}`);
// Only coachwire's audit decides the exit code (timing never does). The reference keeps no
// history, so users who reconnect there miss events: its audit is reported, not enforced.
process.exit(runs[0]!.audit.ok ? 0 : 1);
