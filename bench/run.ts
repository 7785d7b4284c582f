import { fork, type ChildProcess } from "node:child_process";
import { setPriority } from "node:os";
import { fileURLToPath } from "node:url";
import type { ClientResult, FromClient, ToClient } from "./client-proc.ts";
import { mergeHistograms as merge, percentiles, type Percentiles } from "./percentiles.ts";
import { CpuMeter, rssBytes } from "./proc-stats.ts";
import { stepUp, type SteppedRun } from "./rate-steps.ts";
import { rollingDeployMeasurements, rollingDeployPhase, type RollingDeployMeasurements, type StepTiming } from "./rolling-deploy.ts";
import { hasTasks, type Scenario } from "./scenarios/scenario.ts";
import type { BenchUser } from "./seed.ts";
import type { CounterSample } from "./server-counters.ts";
import { stormMeasurements, stormPhase, type StormMeasurements, type StormWindow } from "./storm-phase.ts";
import type { Target } from "./target.ts";

export interface TimelinePoint {
  t: number;
  connected: number;
  sendsPerSec: number;
  deliveriesPerSec: number;
  deliveryP50: number;
  deliveryP99: number;
  ackP99: number;
  /** task:create / task:seen / task:progress ack p99 (0 when there were none). */
  taskAckP99: number;
}

/** The coaching traffic of a run (all zero when the scenario has none, or it was skipped). */
export interface CoachingMeasurements {
  tasksCreated: number;
  taskErrors: number;
  /** Progress reports acknowledged, not counting the deliberate resends. */
  reports: number;
  reportErrors: number;
  /** Reports sent a second time with the same opId (and acknowledged). */
  resent: number;
  seen: number;
  seenErrors: number;
  /** Assignments deliberately left undone (TaskTraffic.skipShare). */
  skipped: number;
  readMarks: number;
  readErrors: number;
  /** Ack latency of task:create, task:seen and task:progress. */
  ack: Percentiles;
}

/** Everything one scenario run against one target measured (before the audit). */
export interface RunMeasurements {
  target: Target["label"];
  scenario: Scenario["name"];
  users: number;
  procs: number;
  connections: { opened: number; failed: number; rampSeconds: number };
  sends: number;
  acks: number;
  sendErrors: number;
  deliveries: number;
  measuredSeconds: number;
  /** The measured phase, ms since the epoch (the notice audit requires the reminders planned before its end, less an allowance). */
  measuredWindow: { startedAt: number; endedAt: number };
  deliveriesPerSecond: number;
  delivery: Percentiles;
  ack: Percentiles;
  coaching: CoachingMeasurements;
  cpuSeconds: Record<string, number>;
  serverCpuMicrosPerDelivery: number | null;
  rss: { idleBytes: number; loadedBytes: number; perConnectionBytes: number | null };
  eventLoopLagP99Ms: number[];
  timeline: TimelinePoint[];
  /** saturation, coaching-saturation: each step's rate and how it fared, and the highest rate that held. */
  saturation?: SteppedRun;
  storm?: StormMeasurements;
  /** rolling-deploy: each step's restart, moved users and their way back, and delivery to those not moved. */
  rollingDeploy?: RollingDeployMeasurements;
  results: ClientResult[];
  /**
   * Each room's last seq when the clients were told to settle: what every user must reach. Read
   * once nothing the clients sent is in flight; events the server writes by itself after it (job
   * notices) are not awaited, though any a user did receive must still be in order.
   */
  settleSeqs: Record<string, number>;
}

const CLIENT = fileURLToPath(new URL("./client-proc.ts", import.meta.url));
/** coaching-saturation: from the last task's ack to the first step (see its use). */
const TASKS_SETTLE_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scrapeLagMs(serverUrls: string[]): Promise<number[]> {
  return Promise.all(
    serverUrls.map(async (u) => {
      const text = await fetch(`${u}/metrics`).then((r) => r.text(), () => "");
      const m = /^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? ([\d.e+-]+)$/m.exec(text);
      return m ? Number(m[1]) * 1000 : NaN;
    }),
  );
}

function coachingMeasurements(results: ClientResult[]): CoachingMeasurements {
  const tasks = results.flatMap((r) => r.coaching.tasks);
  const reports = results.flatMap((r) => r.coaching.reports);
  const acked = (r: { seq: number | null }) => r.seq !== null;
  const sum = (pick: (r: ClientResult) => number) => results.reduce((s, r) => s + pick(r), 0);
  return {
    tasksCreated: tasks.filter(acked).length,
    taskErrors: tasks.filter((t) => !acked(t)).length,
    reports: reports.filter((r) => !r.resend && acked(r)).length,
    reportErrors: reports.filter((r) => !acked(r)).length,
    resent: reports.filter((r) => r.resend && acked(r)).length,
    seen: sum((r) => r.coaching.seen.length),
    seenErrors: sum((r) => r.coaching.seenErrors),
    skipped: sum((r) => r.coaching.skipped),
    readMarks: sum((r) => r.coaching.readsAcked),
    readErrors: sum((r) => r.coaching.readErrors),
    ack: percentiles(merge(results.map((r) => r.coachingAck))),
  };
}

/** Runs one scenario against a started target with `procs` client processes. */
export async function runScenario(
  target: Target,
  scenario: Scenario,
  users: BenchUser[],
  options: {
    procs: number;
    parser: "msgpack" | "json";
    lastSeqs: () => Promise<Record<string, number>>;
    /** Reads the servers' and Redis's counters now (the storm's round trips per resume). */
    sampleCounters: () => Promise<CounterSample>;
    onProgress: (line: string) => void;
    /** Write a CPU profile of every client process here (--profile). */
    profileDir?: string;
    /** The client processes' nice value (--client-nice): they stand for users on other machines. */
    clientNice: number;
  },
): Promise<RunMeasurements> {
  const procs: ChildProcess[] = [];
  const latest = new Map<ChildProcess, Extract<FromClient, { type: "progress" }>>();
  const intervals: Array<{ delivery: string[]; ack: string[]; coachingAck: string[] }> = [];
  let tick: { delivery: string[]; ack: string[]; coachingAck: string[] } = { delivery: [], ack: [], coachingAck: [] };
  const settled: ClientResult[] = [];
  const quiet: number[] = [];
  const total = (k: "connected" | "failed" | "sends" | "acks" | "sendErrors" | "deliveries" | "resumed" | "tasks" | "reports" | "reportErrors") =>
    [...latest.values()].reduce((s, p) => s + p[k], 0);

  for (let i = 0; i < options.procs; i++) {
    const profile = options.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`] : [];
    const child = fork(CLIENT, [], { execArgv: [...profile, "--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    // The clients stand for users on their own devices: on one small machine they would otherwise
    // take an equal share of the CPU from the servers they measure (the reference runs the same way).
    if (options.clientNice !== 0 && child.pid !== undefined) setPriority(child.pid, options.clientNice);
    child.on("message", (msg: FromClient) => {
      if (msg.type === "progress") {
        latest.set(child, msg);
        tick.delivery.push(msg.delivery);
        tick.ack.push(msg.ack);
        tick.coachingAck.push(msg.coachingAck);
      } else if (msg.type === "quiet") quiet.push(msg.pending);
      else settled.push(msg.result);
    });
    procs.push(child);
  }
  const tell = (msg: ToClient | ((i: number) => ToClient)) => procs.forEach((p, i) => p.send(typeof msg === "function" ? msg(i) : msg));

  const groups = await target.processGroups();
  const serverPids = groups.find((g) => g.name === "server")!.pids;
  const idleRss = serverPids.reduce((s, pid) => s + rssBytes(pid), 0);

  // Timeline: one point a second, from the per-process progress reports.
  const timeline: TimelinePoint[] = [];
  const started = Date.now();
  let last = { sends: 0, deliveries: 0 };
  let cpu: CpuMeter | undefined;
  const timelineTimer = setInterval(() => {
    cpu?.sample(); // a server process restarted in the measured phase counts up to its last sample
    const d = merge(tick.delivery);
    const a = merge(tick.ack);
    const c = merge(tick.coachingAck);
    intervals.push(tick);
    tick = { delivery: [], ack: [], coachingAck: [] };
    const now = { sends: total("sends"), deliveries: total("deliveries") };
    const point = {
      t: (Date.now() - started) / 1000,
      connected: total("connected"),
      sendsPerSec: now.sends - last.sends,
      deliveriesPerSec: now.deliveries - last.deliveries,
      deliveryP50: percentiles(d).p50,
      deliveryP99: percentiles(d).p99,
      ackP99: percentiles(a).p99,
      taskAckP99: percentiles(c).p99,
    };
    last = now;
    timeline.push(point);
    options.onProgress(
      `[${target.label} ${scenario.name}] t=${point.t.toFixed(0)}s conn=${point.connected}/${users.length} failed=${total("failed")} ` +
        `sends/s=${point.sendsPerSec} deliv/s=${point.deliveriesPerSec} p99=${point.deliveryP99.toFixed(1)}ms` +
        (hasTasks(scenario) ? ` tasks=${total("tasks")} reports=${total("reports")} task-ack-p99=${point.taskAckP99.toFixed(1)}ms` : ""),
    );
  }, 1000);

  // Ramp: every connection opened over rampSeconds, users dealt round-robin to the processes.
  const rampStarted = Date.now();
  const rampMs = scenario.rampSeconds * 1000;
  tell((i) => ({ type: "start", users: users.filter((_, n) => n % options.procs === i), url: target.url, parser: options.parser, scenario, rampMs }));
  while (total("connected") + total("failed") < users.length && Date.now() - rampStarted < rampMs + 120_000) await sleep(250);
  const rampSeconds = (Date.now() - rampStarted) / 1000;
  await sleep(1000);
  const loadedRss = serverPids.reduce((s, pid) => s + rssBytes(pid), 0);
  const opened = total("connected");
  if (scenario.steps?.load === "progress") {
    // Before the measured phase, every room's coach gives its task (the traffic's start), and
    // task.created reaches the students, who report on it from then on. Wait for the acks (up
    // to 30 s), then TASKS_SETTLE_MS: after each ack the servers still plan the task's jobs
    // (server/app.ts → worker/task-plan.ts: queue removes, the coach's digest), and 400 at once
    // kept them busy for a few seconds — setup, which the first step must not be timed with.
    tell({ type: "traffic", on: true });
    const rooms = new Set(users.map((u) => u.roomId)).size;
    const deadline = Date.now() + 30_000;
    while (total("tasks") < rooms && Date.now() < deadline) await sleep(100);
    await sleep(TASKS_SETTLE_MS);
    options.onProgress(`[${target.label} ${scenario.name}] ${total("tasks")} of ${rooms} rooms have their task`);
  }

  // The measured phase.
  cpu = new CpuMeter(groups);
  const before = { deliveries: total("deliveries"), at: Date.now(), interval: intervals.length };
  let saturation: RunMeasurements["saturation"];
  let stormWindow: StormWindow | undefined;
  let deploySteps: StepTiming[] | undefined;
  if (scenario.steps) {
    const plan = scenario.steps;
    // Chat is timed by delivery, progress reports by their ack; a step's failed requests end the run too.
    const chat = plan.load === "chat";
    const errors = () => total(chat ? "sendErrors" : "reportErrors");
    let n = 0;
    saturation = await stepUp(plan, async (rate) => {
      tell({ type: "rate", perSecond: rate / options.procs });
      const from = intervals.length + 1; // skip the first second of a step (the rate settling)
      const failedBefore = errors();
      await sleep(plan.stepSeconds * 1000);
      const latency = percentiles(merge(intervals.slice(from).flatMap((i) => (chat ? i.delivery : i.coachingAck))));
      const step = { p50: latency.p50, p99: latency.p99, errors: errors() - failedBefore };
      options.onProgress(
        `[${target.label} ${scenario.name}] step ${++n}: ${rate} ${chat ? "sends/s → delivery" : "reports/s → ack"} ` +
          `p50 ${step.p50.toFixed(1)} ms, p99 ${step.p99.toFixed(1)} ms, ${step.errors} failed`,
      );
      return step;
    });
    tell({ type: "rate", perSecond: 0 });
    tell({ type: "traffic", on: false });
  } else {
    tell({ type: "traffic", on: true });
    if (scenario.stormWindowSeconds) {
      const ctx = { tell, deliveries: () => total("deliveries"), groups, sampleCounters: options.sampleCounters };
      stormWindow = await stormPhase(scenario.stormWindowSeconds, scenario.durationSeconds, ctx);
    } else if (scenario.rollingDeploy) {
      if (!target.terminateServer) throw new Error("rolling-deploy restarts server processes: it needs the stack the bench starts");
      await sleep(scenario.durationSeconds * 1000); // the quiet stretch
      const terminateServer = target.terminateServer.bind(target);
      const ctx = { tell, serverUrls: target.serverUrls, terminateServer, onProgress: options.onProgress };
      deploySteps = await rollingDeployPhase(scenario.rollingDeploy, ctx);
    } else {
      await sleep(scenario.durationSeconds * 1000);
    }
    tell({ type: "traffic", on: false });
  }
  const measuredEndedAt = Date.now();
  const measuredSeconds = (measuredEndedAt - before.at) / 1000;
  const cpuSeconds = cpu.total();
  const windowDeliveries = total("deliveries") - before.deliveries;
  const lag = await scrapeLagMs(target.serverUrls);

  // Let every request in flight (sends, tasks, reports: some retrying) be answered, so that
  // nothing is stored after the rooms' last seqs are read; then wait until every user has
  // caught up with its room.
  tell({ type: "quiesce", timeoutMs: 60_000 });
  while (quiet.length < procs.length) await sleep(100);
  const pending = quiet.reduce((s, n) => s + n, 0);
  if (pending > 0) options.onProgress(`[${target.label} ${scenario.name}] ${pending} request(s) still unanswered after 60 s; settling anyway`);
  await sleep(500); // the last broadcasts on their way
  const settleSeqs = await options.lastSeqs();
  tell({ type: "settle", lastSeqs: settleSeqs, timeoutMs: 60_000 });
  while (settled.length < procs.length) await sleep(200);
  clearInterval(timelineTimer);
  for (const p of procs) p.disconnect();

  const storm = stormWindow ? stormMeasurements(stormWindow, settled, opened) : undefined;
  const rollingDeploy = deploySteps && rollingDeployMeasurements(scenario.rollingDeploy!, deploySteps, settled, target.serverUrls.length);
  return {
    target: target.label,
    scenario: scenario.name,
    users: users.length,
    procs: options.procs,
    connections: { opened, failed: total("failed"), rampSeconds },
    sends: settled.reduce((s, r) => s + r.sends, 0),
    acks: settled.reduce((s, r) => s + r.acked.length, 0),
    sendErrors: settled.reduce((s, r) => s + r.sendErrors, 0),
    deliveries: settled.reduce((s, r) => s + r.deliveries, 0),
    measuredSeconds,
    measuredWindow: { startedAt: before.at, endedAt: measuredEndedAt },
    deliveriesPerSecond: windowDeliveries / measuredSeconds,
    delivery: percentiles(merge(settled.map((r) => r.delivery))),
    ack: percentiles(merge(settled.map((r) => r.ack))),
    coaching: coachingMeasurements(settled),
    cpuSeconds,
    serverCpuMicrosPerDelivery: windowDeliveries > 0 ? ((cpuSeconds["server"] ?? 0) * 1e6) / windowDeliveries : null,
    rss: { idleBytes: idleRss, loadedBytes: loadedRss, perConnectionBytes: opened > 0 ? (loadedRss - idleRss) / opened : null },
    eventLoopLagP99Ms: lag,
    timeline,
    ...(saturation ? { saturation } : {}),
    ...(storm ? { storm } : {}),
    ...(rollingDeploy ? { rollingDeploy } : {}),
    results: settled,
    settleSeqs,
  };
}
