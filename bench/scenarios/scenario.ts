/**
 * A bench scenario, declared as data: who connects, how they behave, for how long. The
 * harness (bench/cli.ts) and the client processes (bench/client-proc.ts) interpret it.
 */
export interface Scenario {
  name: "coaching-day" | "saturation" | "coaching-saturation" | "storm" | "rolling-deploy";
  description: string;
  /** Simulated users (rooms are filled with 1 coach + roomSize-1 students). */
  users: number;
  roomSize: number;
  /** Time to open every connection, spread evenly. */
  rampSeconds: number;
  /** Length of the measured phase (rolling-deploy: of the quiet stretch before its first step). */
  durationSeconds: number;
  /** Mean seconds between one user's chat messages (Poisson); 0 means no background chat. */
  meanSendIntervalSeconds: number;
  /** Send `typing` this long before each message (0: never). */
  typingLeadMs: number;
  /** Share of users that drop their connection and resume, per minute. */
  reconnectsPerMinute: number;
  /** Mean seconds between one user's read receipts (`msg:read` at what they have seen; Poisson); 0: none. */
  meanReadIntervalSeconds: number;
  /** Tasks and progress reports during the measured phase; absent: chat only. */
  tasks?: TaskTraffic;
  /** saturation, coaching-saturation: the load stepped up instead of the Poisson traffic (bench/rate-steps.ts). */
  steps?: RateSteps;
  /** storm only: every user disconnects and reconnects within this many seconds. */
  stormWindowSeconds?: number;
  /** rolling-deploy only: each server process in turn drained and restarted under the traffic. */
  rollingDeploy?: RollingDeploy;
}

/**
 * A rolling deploy, one step per server process: SIGTERM (the process drains: /readyz fails,
 * then its clients are told to move), the cluster primary starts a new process on its port, and
 * the traffic runs on for a settle period before the next step.
 */
export interface RollingDeploy {
  /** After the new process answers /readyz, the traffic runs this long before the next step. */
  settleSeconds: number;
  /** A step whose port has no ready process with a new pid after this long has failed; the deploy stops there. */
  restartTimeoutSeconds: number;
  /** The target: each moved user back (every room rejoined and caught up) within this many ms of being told to move. */
  backWithinMs: number;
}

/**
 * A load stepped up until it no longer holds: a total rate per step (startRate, then
 * `increment` more each step), each held for stepSeconds, until a step's p99 passes p99LimitMs
 * or one of its requests fails, or maxSteps have held.
 */
export interface RateSteps {
  /**
   * What is sent and timed: `chat` sends from random users, timed by delivery (send → each
   * receiver); or `progress` reports (+1 solved, a fresh opId each) from random students on the
   * one counted task their room's coach gives at the start, timed by ack (emit → ack).
   */
  load: "chat" | "progress";
  startRate: number;
  increment: number;
  stepSeconds: number;
  p99LimitMs: number;
  maxSteps: number;
}

/**
 * The coaching traffic around tasks: each room's coach gives the whole room a counted task now
 * and then; every student who receives it marks it seen once, then reports progress in a few
 * steps (each with a fresh opId) until the target is reached — except a share who leave it
 * undone. Some reports are sent again with the same opId, as a client does after a lost ack:
 * the answer must be `duplicate` with the first seq, and the report must count once. Tasks are
 * due soon enough that their reminders (and pace nudges, overdue notices) go out during the run.
 */
export interface TaskTraffic {
  /** Mean seconds between the tasks of one room (Poisson). */
  meanTaskIntervalSeconds: number;
  /** Each room's first task comes this many seconds into the measured phase (then Poisson); absent: Poisson from the start. */
  firstTaskAtSeconds?: number;
  /** Each task's target (questions to solve) is drawn from min..max, inclusive. */
  target: { min: number; max: number };
  /** The task is due this many seconds after it is created, drawn uniformly from min..max. */
  dueInSeconds: { min: number; max: number };
  /**
   * The started stack's COACHWIRE_REMINDER_OFFSETS_MIN (servers and job workers): each unfinished
   * assignee gets a reminder this many minutes before the due time. Small enough, with
   * dueInSeconds, that reminders fire during the measured phase.
   */
  reminderOffsetsMinutes: number[];
  /** Share of assignments a student marks seen and then leaves undone (so reminders always have someone to go to). */
  skipShare: number;
  /** Mean seconds from receiving a task to marking it seen (Poisson). */
  meanSeenDelaySeconds: number;
  /** A student reaches the target in this many reports (fewer when the target is smaller). */
  reportsPerTask: number;
  /** Mean seconds before each report (Poisson), counted from the previous step. */
  meanReportIntervalSeconds: number;
  /** Share of reports sent a second time with the same opId once acknowledged. */
  resendShare: number;
}

/** The scenario without the traffic the reference server cannot answer (tasks, read receipts). */
export function withoutCoaching(s: Scenario): Scenario {
  const { tasks: _tasks, ...rest } = s;
  return { ...rest, meanReadIntervalSeconds: 0 };
}

/** True when the scenario gives tasks (Poisson task traffic, or the stepped progress reports). */
export const hasTasks = (s: Scenario) => s.tasks !== undefined || s.steps?.load === "progress";

/** True when the scenario sends anything beyond chat (tasks or read receipts). */
export const hasCoaching = (s: Scenario) => hasTasks(s) || s.meanReadIntervalSeconds > 0;

/** The task traffic of `--smoke` (see its use). */
const SMOKE_TASKS = {
  meanTaskIntervalSeconds: 8,
  firstTaskAtSeconds: 0,
  dueInSeconds: { min: 64, max: 66 },
  reminderOffsetsMinutes: [1],
  meanSeenDelaySeconds: 0.5,
  meanReportIntervalSeconds: 1.5,
  resendShare: 0.1,
  skipShare: 0.1,
} satisfies Partial<TaskTraffic>;

/** The smaller, shorter shape of any scenario used by `--smoke` (CI). */
export function smoke(s: Scenario): Scenario {
  return {
    ...s,
    users: 300,
    rampSeconds: 3,
    durationSeconds: 12,
    meanSendIntervalSeconds: s.meanSendIntervalSeconds === 0 ? 0 : 6,
    reconnectsPerMinute: Math.max(s.reconnectsPerMinute, 0.05),
    meanReadIntervalSeconds: s.meanReadIntervalSeconds === 0 ? 0 : 4,
    // Tasks early and quick, so that most chains reach their target inside 12 s, and enough
    // resends that the duplicate path is certainly exercised. Every room's first task comes at
    // the start, due in ~65 s: its reminder (1 min before) goes out ~5 s in, inside the measured
    // phase less the audit's allowance for the job (bench/notice-audit.ts), so the smoke run
    // always has reminders to audit. Nudges and overdue notices fall after the run.
    ...(s.tasks ? { tasks: { ...s.tasks, ...SMOKE_TASKS } } : {}),
    ...(s.steps ? { steps: { ...s.steps, startRate: 50, increment: 50, stepSeconds: 4, maxSteps: 3 } } : {}),
    // A short quiet stretch and settle: the two steps' drains and restarts take most of the time.
    // The run lasts ~40 s rather than 12, so a task per room every 8 s piles up more reports and
    // notices than the 2-core machine carries (p99 of seconds before the first step): one task per
    // room at the start and about one more later keep it a run about drains, not overload.
    ...(s.rollingDeploy
      ? {
          durationSeconds: 5,
          rollingDeploy: { ...s.rollingDeploy, settleSeconds: 4 },
          ...(s.tasks ? { tasks: { ...s.tasks, ...SMOKE_TASKS, meanTaskIntervalSeconds: 30 } } : {}),
        }
      : {}),
  };
}
