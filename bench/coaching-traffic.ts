import { randomUUID } from "node:crypto";
import * as hdr from "hdr-histogram-js";
import type { TaskView } from "../protocol/coaching.ts";
import { MAX_TARGET } from "../protocol/coaching-schemas.ts";
import type { CoachClient } from "../protocol/client.ts";
import type { RoomEvent } from "../protocol/events.ts";
import type { Scenario, TaskTraffic } from "./scenarios/scenario.ts";
import type { BenchUser } from "./seed.ts";

/**
 * The coaching traffic of one client process: coaches create tasks for their rooms, students
 * mark each task seen and report progress until the target (a share leave it undone), some
 * reports are sent twice with the same opId (a lost ack), and everyone sends read receipts.
 * Under a stepped progress load (coaching-saturation) each coach gives one open-ended task
 * instead, and the client process asks for single reports at its rate ({@link reportOne}).
 * Records every call and its answer so the audits (bench/coaching-audit.ts,
 * bench/notice-audit.ts) can hold PostgreSQL to them.
 */

/** One task:create call; taskId and seq stay null when it was never acknowledged. */
export interface TaskRecord {
  roomId: string;
  coachId: string;
  clientId: string;
  target: number;
  taskId: string | null;
  seq: number | null;
}

/** One task:progress call and its answer. */
export interface ReportRecord {
  roomId: string;
  userId: string;
  taskId: string;
  opId: string;
  /** The solved delta this report adds. */
  solved: number;
  /** A deliberate second send of an acknowledged report, with the same opId. */
  resend: boolean;
  /** The answer's seq; null when never acknowledged. */
  seq: number | null;
  duplicate: boolean;
  /**
   * When an answer saying the student is done arrived (ms since the epoch): their done state
   * had committed by then. The notice audit uses it to tell a reminder sent to a student who
   * was already done from one that crossed the student's last report.
   */
  doneAckedAt?: number;
}

/** What one client process's coaching traffic did. */
export interface CoachingRecords {
  tasks: TaskRecord[];
  reports: ReportRecord[];
  /** Acknowledged task:seen calls: [taskId, userId]. */
  seen: Array<[string, string]>;
  seenErrors: number;
  /** Assignments marked seen and then deliberately left undone (TaskTraffic.skipShare). */
  skipped: number;
  readsAcked: number;
  readErrors: number;
  /** Each user's highest acknowledged read mark: [roomId, userId, requested seq, seq the ack stated]. */
  reads: Array<[string, string, number, number]>;
}

/** The records of a process that sent no coaching traffic. */
export const noCoachingRecords = (): CoachingRecords => ({ tasks: [], reports: [], seen: [], seenErrors: 0, skipped: 0, readsAcked: 0, readErrors: 0, reads: [] });

/** What the traffic needs from its client process. */
export interface CoachingTrafficContext {
  /** Counts a request as in flight until it settles (the process drains these before settling). */
  track<T>(request: Promise<T>): Promise<T>;
  /** True during the measured phase; nothing new starts outside it. */
  isOn(): boolean;
}

/** A simulated user as the traffic sees them. */
export interface TrafficUser {
  user: BenchUser;
  client: CoachClient;
}

const now = () => performance.timeOrigin + performance.now();
const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
const poissonWaitMs = (meanSeconds: number) => -Math.log(1 - Math.random()) * meanSeconds * 1000;

/**
 * A bench task's title carries its create call's clientId, so the audit can tell which call
 * made each task without depending on how the server keys its events.
 */
export const taskTitle = (clientId: string) => `bench task ${clientId}`;

/**
 * The stepped progress load's task: the largest target a task may have, which +1 reports from
 * a room's students do not reach in a run (so none is refused for passing it); no due time, so
 * no reminders, nudges or overdue notices.
 */
const OPEN_TASK = { target: MAX_TARGET, dueAt: null } as const;

/** Splits `target` into `steps` positive parts at random cut points (fewer parts when the target is smaller). */
function splitTarget(target: number, steps: number): number[] {
  const parts = Math.max(1, Math.min(steps, target));
  const cuts = new Set<number>();
  while (cuts.size < parts - 1) cuts.add(1 + Math.floor(Math.random() * (target - 1)));
  const points = [0, ...[...cuts].sort((a, b) => a - b), target];
  return points.slice(1).map((p, i) => p - points[i]!);
}

/** Drives and records the coaching traffic of one client process's users. */
export class CoachingTraffic {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log = noCoachingRecords();
  private readonly highestRead = new Map<string, [string, string, number, number]>();
  private readonly ackAll = histogram();
  private ackInterval = histogram();
  private resendOwed = 0;
  private skipOwed = 0;
  private failedReports = 0;
  private readonly tasks: Scenario["tasks"];
  private readonly meanReadIntervalSeconds: number;
  /** Stepped progress load: the students who have their room's open task, to report on it. */
  private readonly reporters: Array<{ u: TrafficUser; task: TaskView }> | undefined;

  constructor(
    scenario: Pick<Scenario, "tasks" | "meanReadIntervalSeconds" | "steps">,
    private readonly ctx: CoachingTrafficContext,
  ) {
    this.tasks = scenario.tasks;
    this.meanReadIntervalSeconds = scenario.meanReadIntervalSeconds;
    this.reporters = scenario.steps?.load === "progress" ? [] : undefined;
  }

  /** Called once per user before it connects: students act on the tasks delivered to them. */
  attach(u: TrafficUser): void {
    if (u.user.role !== "student") return;
    const taken = new Set<string>();
    u.client.on("event", (event) => {
      if (event.kind !== "task.created") return;
      if (this.tasks) this.onTask(u, event, taken);
      this.reporters?.push({ u, task: (event.body as { task: TaskView }).task });
    });
  }

  /** The measured phase begins: coaches start giving tasks (or their one open task), everyone starts marking read. */
  start(users: TrafficUser[]): void {
    for (const u of users) {
      if (this.tasks && u.user.role === "coach") this.scheduleTask(u, this.tasks, this.tasks.firstTaskAtSeconds);
      if (this.reporters && u.user.role === "coach") void this.createTask(u, OPEN_TASK.target, OPEN_TASK.dueAt);
      if (this.meanReadIntervalSeconds > 0) this.scheduleRead(u);
    }
  }

  /** Stepped progress load: one +1 report, with a fresh opId, from a random student on their open task. */
  reportOne(): void {
    const pick = this.reporters?.[Math.floor(Math.random() * this.reporters.length)];
    if (!pick) return;
    const correct = Math.random() < 0.5 ? 1 : 0;
    void this.report(pick.u, pick.task, { taskId: pick.task.id, opId: randomUUID(), solved: 1, correct, wrong: 1 - correct }, false);
  }

  /** Nothing new starts; requests already sent finish (the caller waits for them). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Counts so far, for the once-a-second progress report. */
  counts(): { tasks: number; reports: number; reportErrors: number } {
    return {
      tasks: this.log.tasks.filter((t) => t.seq !== null).length,
      reports: this.log.reports.filter((r) => r.seq !== null && !r.resend).length,
      reportErrors: this.failedReports,
    };
  }

  /** This interval's ack histogram (encoded), then a fresh one. */
  takeInterval(): string {
    const encoded = hdr.encodeIntoCompressedBase64(this.ackInterval);
    this.ackInterval = histogram();
    return encoded;
  }

  /** The whole run's ack histogram of task:create, task:seen and task:progress (encoded, µs). */
  ackHistogram(): string {
    return hdr.encodeIntoCompressedBase64(this.ackAll);
  }

  records(): CoachingRecords {
    return { ...this.log, reads: [...this.highestRead.values()] };
  }

  /** Runs `fn` after `ms` if the traffic is still on then. */
  private later(ms: number, fn: () => Promise<void> | void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.ctx.isOn()) void fn();
    }, ms);
    this.timers.add(timer);
  }

  /** A tracked request whose ack latency is recorded. */
  private async timed<T>(request: Promise<T>): Promise<T> {
    const started = now();
    const res = await this.ctx.track(request);
    const micros = Math.max(1, Math.round((now() - started) * 1000));
    this.ackAll.recordValue(micros);
    this.ackInterval.recordValue(micros);
    return res;
  }

  /** The room's next task after a Poisson wait, or after `atSeconds` (the first one, when the scenario fixes it). */
  private scheduleTask(u: TrafficUser, plan: TaskTraffic, atSeconds?: number): void {
    this.later(atSeconds !== undefined ? atSeconds * 1000 : poissonWaitMs(plan.meanTaskIntervalSeconds), async () => {
      this.scheduleTask(u, plan);
      const target = plan.target.min + Math.floor(Math.random() * (plan.target.max - plan.target.min + 1));
      const dueInMs = (plan.dueInSeconds.min + Math.random() * (plan.dueInSeconds.max - plan.dueInSeconds.min)) * 1000;
      await this.createTask(u, target, Math.round(Date.now() + dueInMs));
    });
  }

  /** The coach gives the whole room a counted task, recorded for the audit. */
  private async createTask(u: TrafficUser, target: number, dueAt: number | null): Promise<void> {
    const record: TaskRecord = { roomId: u.user.roomId, coachId: u.user.id, clientId: randomUUID(), target, taskId: null, seq: null };
    this.log.tasks.push(record);
    try {
      const res = await this.timed(
        u.client.createTask({ roomId: record.roomId, clientId: record.clientId, title: taskTitle(record.clientId), target, dueAt, assignees: "all" }),
      );
      record.taskId = res.task.id;
      record.seq = res.seq;
    } catch {
      // Left unacknowledged: the audit accepts it stored once or not at all.
    }
  }

  private onTask(u: TrafficUser, event: RoomEvent, taken: Set<string>): void {
    const plan = this.tasks!;
    const task = (event.body as { task: TaskView }).task;
    if (!this.ctx.isOn() || taken.has(task.id) || task.target === null || !task.assignees.includes(u.user.id)) return;
    taken.add(task.id);
    this.later(poissonWaitMs(plan.meanSeenDelaySeconds), async () => {
      try {
        await this.timed(u.client.markSeen(task.id));
        this.log.seen.push([task.id, u.user.id]);
      } catch {
        this.log.seenErrors++;
        return;
      }
      if (this.skipDue()) {
        this.log.skipped++;
        return;
      }
      this.nextReport(u, task, splitTarget(task.target!, plan.reportsPerTask));
    });
  }

  /** The next step towards the target; an unacknowledged step ends the chain (its count is unknown). */
  private nextReport(u: TrafficUser, task: TaskView, steps: number[]): void {
    const solved = steps.shift();
    if (solved === undefined) return;
    this.later(poissonWaitMs(this.tasks!.meanReportIntervalSeconds), async () => {
      const correct = Math.floor(Math.random() * (solved + 1));
      const req = { taskId: task.id, opId: randomUUID(), solved, correct, wrong: solved - correct };
      if (!(await this.report(u, task, req, false))) return;
      if (this.resendDue() && this.ctx.isOn()) await this.report(u, task, req, true);
      this.nextReport(u, task, steps);
    });
  }

  private async report(u: TrafficUser, task: TaskView, req: { taskId: string; opId: string; solved: number; correct: number; wrong: number }, resend: boolean): Promise<boolean> {
    const record: ReportRecord = { roomId: task.roomId, userId: u.user.id, taskId: task.id, opId: req.opId, solved: req.solved, resend, seq: null, duplicate: false };
    this.log.reports.push(record);
    try {
      const res = await this.timed(u.client.reportProgress(req));
      record.seq = res.seq;
      record.duplicate = res.duplicate;
      if (res.progress.state === "done") record.doneAckedAt = Date.now();
      return true;
    } catch {
      this.failedReports++;
      return false;
    }
  }

  /** Exactly `resendShare` of the reports, spread evenly (no chance of none in a short run). */
  private resendDue(): boolean {
    this.resendOwed += this.tasks!.resendShare;
    if (this.resendOwed < 1) return false;
    this.resendOwed -= 1;
    return true;
  }

  /** Exactly `skipShare` of the assignments, spread evenly like the resends. */
  private skipDue(): boolean {
    this.skipOwed += this.tasks!.skipShare;
    if (this.skipOwed < 1) return false;
    this.skipOwed -= 1;
    return true;
  }

  private scheduleRead(u: TrafficUser): void {
    this.later(poissonWaitMs(this.meanReadIntervalSeconds), async () => {
      this.scheduleRead(u);
      const seq = u.client.cursor(u.user.roomId) ?? 0;
      if (!u.client.socket.connected || seq <= (this.highestRead.get(u.user.id)?.[2] ?? 0)) return;
      try {
        const stored = await this.ctx.track(u.client.markRead(u.user.roomId, seq));
        this.log.readsAcked++;
        this.highestRead.set(u.user.id, [u.user.roomId, u.user.id, seq, stored]);
      } catch {
        this.log.readErrors++;
      }
    });
  }
}
