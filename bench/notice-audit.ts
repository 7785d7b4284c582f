import type { Db, Queryable } from "../db/db.ts";
import type { NoticeKind } from "../protocol/coaching.ts";
import type { UserAudit } from "./client-proc.ts";
import type { ReportRecord } from "./coaching-traffic.ts";

/** How many notices of one kind the run's rooms got, and how many reached their recipient. */
export interface NoticeTally {
  /** `notices` rows. */
  sent: number;
  /** Of those, committed while the recipient's client was in the room and before the settle: it had to deliver them … */
  awaited: number;
  /** … and the ones (awaited or not) the recipient's client got in full, exactly once. */
  delivered: number;
}

/** The reminders held to the tasks' assignees. */
export interface ReminderCheck {
  /** (task, offset) reminder windows planned before the cutoff, whose assignees were checked. */
  windows: number;
  /** Assignees who were not done when the job read them: each must have exactly one reminder … */
  expected: number;
  /** … and of those, the ones that have it. */
  found: number;
  /** Assignees who finished between the planned time and the job's read: a reminder is right either way. */
  eitherWay: number;
  /**
   * Reminders (any window) committed after their recipient's done state had committed. The job
   * re-checks "not done" under the room lock the done report also took, so this is wrong.
   */
  afterDone: number;
  /** Windows planned after the cutoff (their job may not have run yet): not required. */
  notYetDue: number;
  /** Milliseconds from a reminder's planned time to its notice being written, p50 and max (null: none sent). */
  latencyMs: { p50: number; max: number } | null;
}

/** The verdict on a run's notices (reminders, pace nudges, overdue notices, digests). */
export interface NoticeAudit {
  kinds: Record<NoticeKind, NoticeTally>;
  reminders: ReminderCheck;
  /** Notice events the clients were handed: in full to their recipient, redacted, in full to someone else (coaches see all in full). */
  copies: { mine: number; redacted: number; othersInFull: number };
  /** Notices with no event at their seq, required reminders missing, awaited notices their recipient never got in full. */
  lost: number;
  /** Notice events with no notices row (a second copy), notices delivered more than once. */
  duplicated: number;
  /** Wrong recipient or window, reminders to students who were already done, notices shown to the wrong audience. */
  mismatches: number;
}

/** What the notice audit needs to know about the run. */
export interface NoticeAuditOptions {
  /** The servers' COACHWIRE_REMINDER_OFFSETS_MIN, in ms. */
  reminderOffsetsMs: readonly number[];
  /** Reminders planned after this (ms since the epoch) are not required: the measured phase's end. */
  requiredBefore: number;
  /**
   * Reminder jobs (`reminder:<task>:<offset>`) still in the queue when the audit read it: their
   * windows are not required yet (the job has not run), whatever the clock says. Read before
   * the database, so a job not listed here had finished — notices committed — by then.
   */
  pendingJobs: ReadonlySet<string>;
}

/** What the client processes recorded, and each room's last seq at the settle. */
export interface NoticeAuditInput {
  users: UserAudit[];
  reports: ReportRecord[];
  rooms: string[];
  settleSeqs: Record<string, number>;
}

/** A reminder planned this soon after its task was created may not have been planned (the server plans after the commit, and skips times already past). */
const PLAN_ALLOWANCE_MS = 1000;
/**
 * A done state written by a transaction that started this long before a reminder's planned
 * time had committed when the job read (used when the bench has no ack time for it).
 */
const COMMIT_ALLOWANCE_MS = 10_000;

const KINDS: readonly NoticeKind[] = ["reminder", "nudge", "overdue", "digest"];
const key = (...parts: string[]) => parts.join("\t");

interface NoticeRow {
  kind: NoticeKind;
  scope_id: string;
  user_id: string;
  window_key: string;
  room_id: string;
  seq: number;
  created_at: Date;
  event_kind: string | null;
  event_client_id: string | null;
  event_user_id: string | null;
}

interface TaskFacts {
  roomId: string;
  coachId: string;
  createdAt: number;
  dueAt: number | null;
  open: boolean;
  /** Assignee → done_at (ms, or null), for assignees still in the room (the only ones a job reminds). */
  assignees: Map<string, number | null>;
  /** Every assignee, members or not. */
  assigned: Set<string>;
  /** Assignee → seq of the task.progress event that made them done. */
  doneSeqs: Map<string, number>;
}

/**
 * Holds the run's notices to the database and to what the clients were handed. Every `notices`
 * row must have exactly one `notice` event at its seq, for its recipient (and every notice event
 * a row); reminders and nudges go to assignees of their task, the overdue notice to its coach.
 * For every bench task and reminder offset planned before `requiredBefore`, each assignee who
 * was not done when the job read them has exactly one reminder with that window key, and no
 * assignee who was done before the planned time has one. Each notice committed while its
 * recipient's client was in the room (before the settle) was handed to that client in full,
 * exactly once; students were handed other people's notices only redacted, coaches all in full.
 * The database is read in one snapshot: the job worker goes on writing notices meanwhile.
 */
export async function auditNotices(db: Db, input: NoticeAuditInput, options: NoticeAuditOptions, note: (problem: string) => void): Promise<NoticeAudit> {
  const v: NoticeAudit = {
    kinds: Object.fromEntries(KINDS.map((k) => [k, { sent: 0, awaited: 0, delivered: 0 }])) as Record<NoticeKind, NoticeTally>,
    reminders: { windows: 0, expected: 0, found: 0, eitherWay: 0, afterDone: 0, notYetDue: 0, latencyMs: null },
    copies: { mine: 0, redacted: 0, othersInFull: 0 },
    lost: 0,
    duplicated: 0,
    mismatches: 0,
  };
  const { rows, strays, tasks } = await db.transaction(async (tx) => {
    await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    return { rows: await noticeRows(tx, input.rooms), strays: await strayEvents(tx, input.rooms), tasks: await taskFacts(tx, input.rooms) };
  });
  const users = new Map(input.users.map((u) => [u.userId, u]));
  const reminders = checkRows(v, rows, tasks, users, input.settleSeqs, options, note);
  for (const e of strays) {
    v.duplicated++;
    note(`notice event ${e.room_id}#${e.seq} (${e.notice ?? "?"} to ${e.user_id ?? "?"}, clientId ${e.client_id ?? "none"}) has no notices row: a second copy`);
  }
  checkReminders(v, tasks, reminders, doneAcks(input.reports), options, note);
  checkAudiences(v, input.users, note);
  return v;
}

async function noticeRows(tx: Queryable, rooms: string[]): Promise<NoticeRow[]> {
  const res = await tx.query<NoticeRow>(
    `SELECT n.kind, n.scope_id, n.user_id, n.window_key, n.room_id, n.seq, n.created_at,
            e.kind AS event_kind, e.client_id AS event_client_id, e.body->>'userId' AS event_user_id
       FROM notices n LEFT JOIN room_events e ON e.room_id = n.room_id AND e.seq = n.seq
      WHERE n.room_id = ANY($1::text[]) ORDER BY n.room_id, n.seq`,
    [rooms],
  );
  return res.rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

async function strayEvents(tx: Queryable, rooms: string[]) {
  const res = await tx.query<{ room_id: string; seq: number; client_id: string | null; notice: string | null; user_id: string | null }>(
    `SELECT e.room_id, e.seq, e.client_id, e.body->>'notice' AS notice, e.body->>'userId' AS user_id
       FROM room_events e
      WHERE e.room_id = ANY($1::text[]) AND e.kind = 'notice'
        AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.room_id = e.room_id AND n.seq = e.seq)
      ORDER BY e.room_id, e.seq`,
    [rooms],
  );
  return res.rows;
}

async function taskFacts(tx: Queryable, rooms: string[]): Promise<Map<string, TaskFacts>> {
  const res = await tx.query<{ id: string; room_id: string; created_by: string; created_at: Date; due_at: Date | null; status: string; user_id: string | null; done_at: Date | null; member: boolean }>(
    `SELECT t.id, t.room_id, t.created_by, t.created_at, t.due_at, t.status, a.user_id, a.done_at, (m.user_id IS NOT NULL) AS member
       FROM tasks t LEFT JOIN task_assignees a ON a.task_id = t.id
       LEFT JOIN memberships m ON m.room_id = t.room_id AND m.user_id = a.user_id
      WHERE t.room_id = ANY($1::text[])`,
    [rooms],
  );
  const tasks = new Map<string, TaskFacts>();
  for (const r of res.rows) {
    let t = tasks.get(r.id);
    if (!t) {
      t = {
        roomId: r.room_id,
        coachId: r.created_by,
        createdAt: r.created_at.getTime(),
        dueAt: r.due_at?.getTime() ?? null,
        open: r.status === "open",
        assignees: new Map(),
        assigned: new Set(),
        doneSeqs: new Map(),
      };
      tasks.set(r.id, t);
    }
    if (r.user_id === null) continue;
    t.assigned.add(r.user_id);
    if (r.member) t.assignees.set(r.user_id, r.done_at?.getTime() ?? null);
  }
  // The state only moves forward and nothing passes the target: one event per assignee says done.
  const done = await tx.query<{ task_id: string; sender_id: string; seq: number }>(
    `SELECT body->'progress'->>'taskId' AS task_id, sender_id, min(seq) AS seq FROM room_events
      WHERE room_id = ANY($1::text[]) AND kind = 'task.progress' AND body->'progress'->>'state' = 'done'
      GROUP BY 1, 2`,
    [rooms],
  );
  for (const r of done.rows) tasks.get(r.task_id)?.doneSeqs.set(r.sender_id, Number(r.seq));
  return tasks;
}

/** The earliest ack that said (task, student) was done: their done state had committed by then. */
function doneAcks(reports: ReportRecord[]): Map<string, number> {
  const acks = new Map<string, number>();
  for (const r of reports) {
    if (r.doneAckedAt === undefined) continue;
    const k = key(r.taskId, r.userId);
    acks.set(k, Math.min(acks.get(k) ?? Infinity, r.doneAckedAt));
  }
  return acks;
}

/**
 * Each row against its event, its task and its recipient's client. Returns the reminder rows by
 * `task \t window key`, then by recipient.
 */
function checkRows(
  v: NoticeAudit,
  rows: NoticeRow[],
  tasks: Map<string, TaskFacts>,
  users: Map<string, UserAudit>,
  settleSeqs: Record<string, number>,
  options: NoticeAuditOptions,
  note: (p: string) => void,
): Map<string, Map<string, NoticeRow>> {
  const reminders = new Map<string, Map<string, NoticeRow>>();
  const latencies: number[] = [];
  for (const r of rows) {
    const tally = v.kinds[r.kind];
    tally.sent++;
    const what = `${r.kind} to ${r.user_id} (${r.scope_id}, ${r.window_key}) at ${r.room_id}#${r.seq}`;
    const clientId = `notice:${r.kind}:${r.scope_id}:${r.user_id}:${r.window_key}`;
    if (r.event_kind !== "notice" || r.event_client_id !== clientId || r.event_user_id !== r.user_id) {
      v.lost++;
      note(`${what}: the event at its seq is ${r.event_kind === null ? "missing" : `a ${r.event_kind} event (clientId ${r.event_client_id}, for ${r.event_user_id ?? "nobody"})`}`);
    }
    const task = tasks.get(r.scope_id);
    if ((r.kind === "reminder" || r.kind === "nudge") && !task?.assigned.has(r.user_id)) {
      v.mismatches++;
      note(`${what}: the recipient is not assigned that task`);
    }
    if (r.kind === "overdue" && task?.coachId !== r.user_id) {
      v.mismatches++;
      note(`${what}: the recipient is not the task's coach (${task?.coachId ?? "no such task"})`);
    }
    if (r.kind === "reminder") {
      const windows = task?.dueAt == null ? [] : options.reminderOffsetsMs.map((o) => `${o}@${task.dueAt}`);
      if (!windows.includes(r.window_key)) {
        v.mismatches++;
        note(`${what}: the window key is none of the task's reminder windows (${windows.join(", ") || "none"})`);
      }
      const [offset, due] = r.window_key.split("@").map(Number);
      if (Number.isFinite(offset) && Number.isFinite(due)) latencies.push(r.created_at.getTime() - (due! - offset!));
      const doneSeq = task?.doneSeqs.get(r.user_id);
      if (doneSeq !== undefined && doneSeq < r.seq) {
        v.reminders.afterDone++;
        v.mismatches++;
        note(`${what}: written after its recipient's done state (seq ${doneSeq})`);
      }
      const k = key(r.scope_id, r.window_key);
      if (!reminders.has(k)) reminders.set(k, new Map());
      reminders.get(k)!.set(r.user_id, r);
    }
    // Delivery: the recipient's client, if it was in the room from before the notice until the settle.
    const u = users.get(r.user_id);
    const copies = u ? u.notices.mine.filter((s) => s === r.seq).length : 0;
    if (copies === 1) tally.delivered++;
    if (copies > 1) {
      v.duplicated += copies - 1;
      note(`${what}: delivered ${copies} times to its recipient`);
    }
    if (u && u.roomId === r.room_id && u.joinedAt < r.seq && r.seq <= (settleSeqs[r.room_id] ?? 0)) {
      tally.awaited++;
      if (copies === 0) {
        v.lost++;
        const reached = (u.last ?? u.joinedAt) >= r.seq && u.gaps === 0;
        note(`${what}: its recipient's client was in the room and ${reached ? "was handed that seq, but not in full" : "never got it"}`);
      }
    }
  }
  latencies.sort((a, b) => a - b);
  if (latencies.length > 0) v.reminders.latencyMs = { p50: latencies[Math.floor((latencies.length - 1) / 2)]!, max: latencies.at(-1)! };
  return reminders;
}

/**
 * Every reminder window of every open task against its assignees. The job runs some time after
 * the planned time and checks each assignee under the room lock at its own turn, and when it
 * reached whom is not recorded. So: an assignee never done must have one; one whose done state
 * had committed (its ack arrived) before the planned time must not; one who finished after the
 * planned time may rightly have either.
 */
function checkReminders(
  v: NoticeAudit,
  tasks: Map<string, TaskFacts>,
  reminders: Map<string, Map<string, NoticeRow>>,
  acks: Map<string, number>,
  options: NoticeAuditOptions,
  note: (p: string) => void,
): void {
  const rc = v.reminders;
  for (const [taskId, t] of tasks) {
    if (!t.open || t.dueAt === null) continue;
    for (const offset of options.reminderOffsetsMs) {
      const planned = t.dueAt - offset;
      if (planned - t.createdAt < PLAN_ALLOWANCE_MS) continue;
      const window = `${offset}@${t.dueAt}`;
      const sent = reminders.get(key(taskId, window)) ?? new Map<string, NoticeRow>();
      const required = planned <= options.requiredBefore && !options.pendingJobs.has(`reminder:${taskId}:${offset}`);
      if (required) rc.windows++;
      else rc.notYetDue++;
      for (const [userId, doneAt] of t.assignees) {
        const row = sent.get(userId);
        const ackedDone = acks.get(key(taskId, userId));
        const doneBefore = (ackedDone !== undefined && ackedDone < planned) || (doneAt !== null && doneAt < planned - COMMIT_ALLOWANCE_MS);
        if (row && doneBefore) {
          v.mismatches++;
          note(`reminder ${window} on ${taskId} went to ${userId}, who was done before it was planned (done ${new Date(doneAt ?? ackedDone!).toISOString()}, planned ${new Date(planned).toISOString()})`);
          continue;
        }
        if (!required) continue;
        // Required only of students never done: a job checks each student under the room lock at
        // its own turn, so one who finished after the planned time may rightly get none, and when
        // the job reached them is not recorded. Done before the planned time: none (checked above).
        if (doneAt === null) {
          rc.expected++;
          if (row) rc.found++;
          else {
            v.lost++;
            note(`no reminder ${window} on ${taskId} for ${userId}, who was ${doneAt === null ? "never done" : `not done until ${new Date(doneAt).toISOString()}`} (planned ${new Date(planned).toISOString()})`);
          }
        } else if (row || (doneAt !== null && doneAt > planned)) rc.eitherWay++;
      }
    }
  }
}

/** Students must be handed other people's notices redacted; coaches every notice in full. */
function checkAudiences(v: NoticeAudit, users: UserAudit[], note: (p: string) => void): void {
  for (const u of users) {
    v.copies.mine += u.notices.mine.length;
    v.copies.redacted += u.notices.redacted;
    v.copies.othersInFull += u.notices.othersInFull;
    if (u.role === "student" && u.notices.othersInFull > 0) {
      v.mismatches += u.notices.othersInFull;
      note(`student ${u.userId} was handed ${u.notices.othersInFull} notice(s) for someone else in full`);
    }
    if (u.role === "coach" && u.notices.redacted > 0) {
      v.mismatches += u.notices.redacted;
      note(`coach ${u.userId} was handed ${u.notices.redacted} notice(s) redacted`);
    }
  }
}
