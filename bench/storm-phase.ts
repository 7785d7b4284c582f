import type { ClientResult, ToClient } from "./client-proc.ts";
import { cpuSince, sampleCpu, type ProcessGroup } from "./proc-stats.ts";
import { mergeHistograms, percentiles, sortedPercentile, type Percentiles } from "./percentiles.ts";
import { perResume, type CounterName, type CounterSample, type PerResume } from "./server-counters.ts";

/**
 * The storm's measured phase and its figures. Chat runs throughout; after a baseline window
 * the clients drop every user within the storm window, and each comes back through the SDK.
 * Counters are read at T0 (the baseline window's start: T1 less one storm window), T1 (the
 * storm's start) and T2 (the measured phase's end), so that what one resume costs in database
 * statements and Redis commands is the storm's count less the chat-only baseline's.
 */

/** What the storm phase needs from the run. */
export interface StormPhaseContext {
  tell(msg: ToClient): void;
  /** Deliveries so far, from the clients' once-a-second progress. */
  deliveries(): number;
  groups: ProcessGroup[];
  sampleCounters(): Promise<CounterSample>;
}

/** What was read around the storm, before the clients' results are in. */
export interface StormWindow {
  t0: CounterSample;
  t1: CounterSample;
  t2: CounterSample;
  /** Server CPU seconds and deliveries from T1 to T2. */
  serverCpuSeconds: number;
  deliveries: number;
}

/** A storm run's figures. */
export interface StormMeasurements {
  users: number;
  resumed: number;
  /** From the storm's start to the last user's resume (null unless every user resumed). */
  fullyResumedMs: number | null;
  /** From the last reconnect attempt (the last user's storm disconnect) to the last resume: the target's measure. */
  fullyResumedAfterLastAttemptMs: number | null;
  /** Resume time from the storm's start, p99. */
  resumeP99Ms: number | null;
  /** Live chat deliveries to users back from the storm, of messages sent while their sender was connected. */
  postResumeDelivery: Percentiles;
  /** Server CPU µs per delivered event from T1 to T2 (catch-up deliveries count as delivered events). */
  serverCpuMicrosPerDelivery: number | null;
  /** T1 − T0 and T2 − T1, ms. */
  windowsMs: { baseline: number; storm: number };
  /** Resumes between T1 and T2: the divisor of the per-resume figures. */
  resumesInWindow: number;
  /** Round trips per resume, with their raw counts. */
  perResume: Record<"dbStatements" | "redisCommands" | "roomJoins" | "roomsResumes", PerResume>;
  /** Handshakes admitted and refused by admission control from T1 to T2 (null: the servers do not count them). */
  admission: { admitted: number | null; refused: number | null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the storm with the traffic on: at least one storm window of chat before it (the baseline
 * window is the last of it), the storm, then at least the storm window plus 10 s for everyone to
 * come back. With the default 40 s: 10 s before, 30 s after.
 */
export async function stormPhase(windowSeconds: number, durationSeconds: number, ctx: StormPhaseContext): Promise<StormWindow> {
  const windowMs = windowSeconds * 1000;
  const beforeMs = Math.max((durationSeconds * 1000) / 4, windowMs);
  const afterMs = Math.max((durationSeconds * 3000) / 4, windowMs + 10_000);
  await sleep(beforeMs - windowMs);
  const t0 = await ctx.sampleCounters();
  await sleep(Math.max(0, t0.at + windowMs - Date.now()));
  const t1 = await ctx.sampleCounters();
  const cpu = sampleCpu(ctx.groups);
  const deliveries = ctx.deliveries();
  ctx.tell({ type: "storm", windowMs });
  await sleep(afterMs);
  const t2 = await ctx.sampleCounters();
  return { t0, t1, t2, serverCpuSeconds: cpuSince(cpu, ctx.groups)["server"] ?? 0, deliveries: ctx.deliveries() - deliveries };
}

const maxOf = (xs: Array<number | null>) => xs.reduce<number | null>((m, x) => (x === null ? m : Math.max(m ?? x, x)), null);

/** The storm's figures from the window's readings and the clients' results; `opened` users were connected. */
export function stormMeasurements(w: StormWindow, results: ClientResult[], opened: number): StormMeasurements {
  const resume = results.flatMap((r) => r.resumeMs).sort((a, b) => a - b);
  const resumedAt = results.flatMap((r) => r.storm.resumedAt);
  const all = resume.length === opened && resume.length > 0;
  const lastAttempt = maxOf(results.map((r) => r.storm.lastDisconnectAt));
  const resumes = resumedAt.filter((at) => at >= w.t1.at && at <= w.t2.at).length;
  const per = (name: CounterName) => perResume(name, w.t0, w.t1, w.t2, resumes);
  const delta = (name: CounterName) => {
    const [a, b] = [w.t1.values[name], w.t2.values[name]];
    return a === null || b === null ? null : b - a;
  };
  return {
    users: opened,
    resumed: resume.length,
    fullyResumedMs: all ? resume.at(-1)! : null,
    fullyResumedAfterLastAttemptMs: all && lastAttempt !== null ? Math.max(...resumedAt) - lastAttempt : null,
    resumeP99Ms: sortedPercentile(resume, 99),
    postResumeDelivery: percentiles(mergeHistograms(results.map((r) => r.storm.postResume))),
    serverCpuMicrosPerDelivery: w.deliveries > 0 ? (w.serverCpuSeconds * 1e6) / w.deliveries : null,
    windowsMs: { baseline: w.t1.at - w.t0.at, storm: w.t2.at - w.t1.at },
    resumesInWindow: resumes,
    perResume: { dbStatements: per("dbStatements"), redisCommands: per("redisCommands"), roomJoins: per("roomJoins"), roomsResumes: per("roomsResumes") },
    admission: { admitted: delta("admitted"), refused: delta("refused") },
  };
}
