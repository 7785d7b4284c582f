import type { JobKind, JobOutcome, JobPayloads } from "./jobs.ts";
import type { JobContext } from "./job-context.ts";
import { runDigest } from "./digest-job.ts";
import { runMail } from "./mail-job.ts";
import { runNudge } from "./nudge-job.ts";
import { runOverdue } from "./overdue-job.ts";
import { runParentDigest } from "./parent-digest-job.ts";
import { runReminder } from "./reminder-job.ts";

/** Every job kind's handler; both runners dispatch through this table. */
export const JOB_HANDLERS: { [K in JobKind]: (ctx: JobContext, payload: JobPayloads[K]) => Promise<JobOutcome> } = {
  reminder: runReminder,
  nudge: runNudge,
  overdue: runOverdue,
  digest: runDigest,
  mail: runMail,
  "parent-digest": runParentDigest,
};

export function runJob(ctx: JobContext, kind: JobKind, payload: unknown): Promise<JobOutcome> {
  const handler = JOB_HANDLERS[kind] as (ctx: JobContext, payload: unknown) => Promise<JobOutcome>;
  if (!handler) return Promise.reject(new Error(`unknown job kind ${kind}`));
  return handler(ctx, payload);
}
