import type { ClientResult, ToClient } from "./client-proc.ts";
import { mergeHistograms, percentiles, sortedPercentile, type Percentiles } from "./percentiles.ts";
import type { RollingDeploy } from "./scenarios/scenario.ts";

/**
 * The rolling deploy's measured phase and its figures: under the traffic, each server process
 * in turn gets SIGTERM — it drains (/readyz fails, then its clients are told to move with
 * `session:closing` "server draining") and exits, and the cluster primary starts a new process
 * on its port. A step ends once that port answers /readyz with a new pid and the settle period
 * has passed. The clients (bench/resume-watch.ts) say who was moved, when each was back, and
 * what the users not moved were delivered meanwhile.
 */

/** What the phase needs from the run. */
export interface RollingDeployContext {
  tell(msg: ToClient): void;
  serverUrls: readonly string[];
  /** SIGTERM to a server process of the stack the bench started. */
  terminateServer(pid: number): void;
  onProgress(line: string): void;
}

/** One step as the bench process saw it. */
export interface StepTiming {
  server: string;
  oldPid: number | null;
  newPid: number | null;
  /** From SIGTERM until the old process had exited (drained). */
  drainedMs: number | null;
  /** From SIGTERM until the port answered /readyz 200 with a new pid. */
  restartMs: number | null;
  /** The step's window (ms since the epoch): the clients were told it began, until the settle period ended. */
  startedAt: number;
  endedAt: number;
  /** Why the step failed (no new ready process in time); the deploy stops there. */
  failed?: string;
}

/** One step's figures. */
export interface DeployStep extends StepTiming {
  /** Users told to move ("server draining"). */
  moved: number;
  /** Moved users back (every room rejoined and caught up): all of them, and those back within the target. */
  back: number;
  backWithinTarget: number;
  /** Moved users never back by the end of the run. */
  neverBack: number;
  /** Told to move → back, ms (null when no one was moved). */
  backMs: { p50: number | null; p99: number | null; max: number | null };
  /** Live chat delivery during the step to users not moved in it, of messages sent while their sender was connected. */
  notMovedDelivery: Percentiles;
  /** The same to moved users once they were back. */
  movedBackDelivery: Percentiles;
  /** Users who lost their connection in the step without being told to move (random reconnects, or dropped). */
  droppedUntold: number;
}

/** A rolling deploy run's figures. */
export interface RollingDeployMeasurements {
  /** The target for a moved user's way back, ms. */
  backWithinMs: number;
  stepsPlanned: number;
  steps: DeployStep[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pidOf(url: string): Promise<number | null> {
  return fetch(`${url}/healthz`).then(
    (r) => (r.ok ? (r.json() as Promise<{ pid?: number }>).then((b) => b.pid ?? null) : null),
    () => null,
  );
}

const isReady = (url: string) => fetch(`${url}/readyz`).then((r) => r.ok, () => false);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits (bounded) until the process on `url` is a new one (pid other than `oldPid`) and ready:
 * its pid (null if none in time), and when the old one was seen gone (ms since the epoch).
 */
async function newReadyProcess(url: string, oldPid: number, timeoutMs: number): Promise<{ pid: number | null; oldGoneAt: number | null }> {
  const deadline = Date.now() + timeoutMs;
  let oldGoneAt: number | null = null;
  while (Date.now() < deadline) {
    if (oldGoneAt === null && !alive(oldPid)) oldGoneAt = Date.now();
    const pid = await pidOf(url);
    if (pid !== null && pid !== oldPid && (await isReady(url))) return { pid, oldGoneAt: oldGoneAt ?? Date.now() };
    await sleep(200);
  }
  return { pid: null, oldGoneAt };
}

/** Runs the steps with the traffic on; stops after a step whose process did not come back. */
export async function rollingDeployPhase(plan: RollingDeploy, ctx: RollingDeployContext): Promise<StepTiming[]> {
  const steps: StepTiming[] = [];
  for (const [index, server] of ctx.serverUrls.entries()) {
    const oldPid = await pidOf(server);
    const startedAt = Date.now();
    if (oldPid === null) {
      steps.push({ server, oldPid, newPid: null, drainedMs: null, restartMs: null, startedAt, endedAt: startedAt, failed: "no process answered /healthz" });
      break;
    }
    ctx.tell({ type: "deploy-step", index });
    const signalledAt = Date.now();
    ctx.terminateServer(oldPid);
    const { pid: newPid, oldGoneAt } = await newReadyProcess(server, oldPid, plan.restartTimeoutSeconds * 1000);
    const restartMs = newPid === null ? null : Date.now() - signalledAt;
    const drainedMs = oldGoneAt === null ? null : oldGoneAt - signalledAt;
    ctx.onProgress(
      newPid === null
        ? `[rolling-deploy] step ${index + 1}: ${server} (pid ${oldPid}, ${drainedMs === null ? "still running" : `exited after ${drainedMs} ms`}) ` +
            `had no ready new process after ${plan.restartTimeoutSeconds} s: the deploy stops`
        : `[rolling-deploy] step ${index + 1}: ${server} pid ${oldPid} exited ${drainedMs} ms after SIGTERM, ${newPid} ready after ${restartMs} ms; settling ${plan.settleSeconds} s`,
    );
    const timing = { server, oldPid, newPid, drainedMs, restartMs, startedAt };
    if (newPid === null) {
      steps.push({ ...timing, endedAt: Date.now(), failed: `no ready new process within ${plan.restartTimeoutSeconds} s` });
      break;
    }
    await sleep(plan.settleSeconds * 1000);
    steps.push({ ...timing, endedAt: Date.now() });
  }
  ctx.tell({ type: "deploy-end" });
  return steps;
}

/** Each step's figures from its timing and the clients' records of it. */
export function rollingDeployMeasurements(plan: RollingDeploy, timings: StepTiming[], results: ClientResult[], stepsPlanned: number): RollingDeployMeasurements {
  const steps = timings.map((t, i): DeployStep => {
    const records = results.flatMap((r) => (r.deploySteps[i] ? [r.deploySteps[i]] : []));
    const backMs = records.flatMap((r) => r.resumeMs).sort((a, b) => a - b);
    const moved = records.reduce((s, r) => s + r.moved, 0);
    return {
      ...t,
      moved,
      back: backMs.length,
      backWithinTarget: backMs.filter((ms) => ms <= plan.backWithinMs).length,
      neverBack: moved - backMs.length,
      backMs: { p50: sortedPercentile(backMs, 50), p99: sortedPercentile(backMs, 99), max: backMs.at(-1) ?? null },
      notMovedDelivery: percentiles(mergeHistograms(records.map((r) => r.notMoved))),
      movedBackDelivery: percentiles(mergeHistograms(records.map((r) => r.movedBack))),
      droppedUntold: records.reduce((s, r) => s + r.droppedUntold, 0),
    };
  });
  return { backWithinMs: plan.backWithinMs, stepsPlanned, steps };
}
