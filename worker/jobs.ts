/**
 * Background jobs: what they are, how they are named, and the queue seam both runners implement
 * (BullMQ on Redis, or the embedded runner on the database's scheduled_jobs table).
 */

export type JobKind = "reminder" | "nudge" | "overdue" | "digest" | "mail" | "parent-digest";

export interface ReminderPayload {
  taskId: string;
  /** How long before the due time this reminder fires. */
  offsetMs: number;
  /** The due time the job was planned for; a job that finds another one is stale and does nothing. */
  dueAt: number;
  /** Only these assignees (a reminder held back by someone's quiet hours); all unfinished ones when absent. */
  userIds?: string[];
}

export interface OverduePayload {
  taskId: string;
  dueAt: number;
  /** True for the copy held back by the coach's quiet hours. */
  held?: boolean;
}

export interface NudgePayload {
  taskId: string;
  dueAt: number;
  /** Which pace check: the fraction of the task's time that has passed (e.g. 0.5). */
  checkpoint: number;
  userIds?: string[];
}

export interface DigestPayload {
  coachId: string;
  /** The coach's local date the digest is for (YYYY-MM-DD). */
  day: string;
  held?: boolean;
}

/** One outbox row to deliver, by its natural key. */
export interface MailPayload {
  naturalKey: string;
}

export interface ParentDigestPayload {
  parentId: string;
  /** The parent's local date the weekly digest goes out on (YYYY-MM-DD): the week's name. */
  week: string;
}

export interface JobPayloads {
  reminder: ReminderPayload;
  nudge: NudgePayload;
  overdue: OverduePayload;
  digest: DigestPayload;
  mail: MailPayload;
  "parent-digest": ParentDigestPayload;
}

/** What a job asks of its runner: nothing (done), or to run it again later (the recipient was in quiet hours). */
export type JobOutcome = void | { deferUntil: number };

/** One scheduled job. The id is deterministic, so planning again replaces and removing cancels. */
export interface JobSpec<K extends JobKind = JobKind> {
  id: string;
  kind: K;
  payload: JobPayloads[K];
  /** Milliseconds since the epoch. */
  runAt: number;
}

/** Where jobs are scheduled; both runners implement it and pass test/job-runners.test.ts. */
export interface JobQueue {
  /** Adds the job, replacing a waiting one with the same id (a running one is waited for first). */
  upsert(job: JobSpec): Promise<void>;
  /** Removes a waiting job (a running one finishes; its handler re-checks the task). */
  remove(id: string): Promise<void>;
  /** Ids of the jobs waiting to run (for tests and the operator). */
  waiting(): Promise<{ id: string; runAt: number }[]>;
  close(): Promise<void>;
}

export const jobIds = {
  reminder: (taskId: string, offsetMs: number) => `reminder:${taskId}:${offsetMs}`,
  heldReminder: (taskId: string, offsetMs: number, userId: string) => `reminder:${taskId}:${offsetMs}:${userId}`,
  nudge: (taskId: string, checkpoint: number) => `nudge:${taskId}:${checkpoint}`,
  heldNudge: (taskId: string, checkpoint: number, userId: string) => `nudge:${taskId}:${checkpoint}:${userId}`,
  overdue: (taskId: string) => `overdue:${taskId}`,
  heldOverdue: (taskId: string) => `overdue:${taskId}:held`,
  digest: (coachId: string, day: string) => `digest:${coachId}:${day}`,
  mail: (naturalKey: string) => `mail:${naturalKey}`,
  parentDigest: (parentId: string, week: string) => `parent-digest:${parentId}:${week}`,
};
