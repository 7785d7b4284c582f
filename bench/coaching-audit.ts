import type { Db } from "../db/db.ts";
import { taskTitle, type CoachingRecords, type ReportRecord, type TaskRecord } from "./coaching-traffic.ts";

/** The verdict on a run's tasks, progress reports and read receipts. */
export interface CoachingAudit {
  tasksAcked: number;
  reportsAcked: number;
  /** Deliberate resends (same opId) that were acknowledged … */
  resent: number;
  /** … and of those, the ones answered `duplicate` with the first send's seq. */
  duplicatesAnswered: number;
  /** Creates or reports never acknowledged but stored (allowed: the ack was lost, not the write). */
  storedUnacked: number;
  /** (task, student) rows compared with the acknowledged reports; `done` of them reached the target. */
  assigneesChecked: number;
  done: number;
  readMarksChecked: number;
  /** Acked tasks, reports or read marks missing from PostgreSQL, or stored under another seq. */
  lost: number;
  /** Tasks or reports stored twice, and resends counted as new. */
  duplicated: number;
  /** Stored totals, states or duplicate answers that disagree with what was acknowledged. */
  mismatches: number;
}

const CHUNK = 5000;
const key = (...parts: string[]) => parts.join("\t");

/**
 * Holds PostgreSQL to every answer the coaching traffic got: each acked task exists once with
 * one task.created event; each acked report is stored once under its opId at the acked seq;
 * each resend was answered duplicate with the first seq; each (task, student) row's solved
 * equals the sum of that student's counted reports, and it is done exactly when that reaches
 * the target; each acked read mark is stored. `note` collects the first problems found.
 */
export async function auditCoaching(db: Db, logs: CoachingRecords[], rooms: string[], note: (problem: string) => void): Promise<CoachingAudit> {
  const verdict: CoachingAudit = {
    tasksAcked: 0,
    reportsAcked: 0,
    resent: 0,
    duplicatesAnswered: 0,
    storedUnacked: 0,
    assigneesChecked: 0,
    done: 0,
    readMarksChecked: 0,
    lost: 0,
    duplicated: 0,
    mismatches: 0,
  };
  await auditTasks(db, logs.flatMap((l) => l.tasks), rooms, verdict, note);
  const counted = await auditReports(db, logs.flatMap((l) => l.reports), rooms, verdict, note);
  await auditTotals(db, counted, new Set(logs.flatMap((l) => l.seen.map(([t, u]) => key(t, u)))), rooms, verdict, note);
  await auditReadMarks(db, logs.flatMap((l) => l.reads), verdict, note);
  return verdict;
}

/**
 * Tasks are matched by id (acked) and by title (which carries the create call's clientId), so
 * the check does not depend on how the server keys its events; each must have exactly one
 * task.created event, at the acked seq.
 */
async function auditTasks(db: Db, tasks: TaskRecord[], rooms: string[], v: CoachingAudit, note: (p: string) => void): Promise<void> {
  const rows = await db.query<{ id: string; room_id: string; title: string; events: number; seq: number | null }>(
    `SELECT t.id, t.room_id, t.title, count(e.seq)::int AS events, min(e.seq) AS seq
       FROM tasks t LEFT JOIN room_events e ON e.room_id = t.room_id AND e.kind = 'task.created' AND e.body->'task'->>'id' = t.id
      WHERE t.room_id = ANY($1::text[]) GROUP BY t.id, t.room_id, t.title`,
    [rooms],
  );
  const byId = new Map(rows.rows.map((r) => [r.id, r]));
  const byTitle = new Map<string, string[]>();
  for (const r of rows.rows) byTitle.set(key(r.room_id, r.title), [...(byTitle.get(key(r.room_id, r.title)) ?? []), r.id]);
  const calls = new Set(tasks.map((t) => key(t.roomId, taskTitle(t.clientId))));
  for (const t of tasks) {
    const made = byTitle.get(key(t.roomId, taskTitle(t.clientId))) ?? [];
    if (made.length > 1) {
      v.duplicated += made.length - 1;
      note(`task create ${t.clientId} in ${t.roomId} made ${made.length} tasks: ${made.join(", ")}`);
    }
    if (t.taskId === null) {
      if (made.length > 0) v.storedUnacked++;
      continue;
    }
    v.tasksAcked++;
    const row = byId.get(t.taskId);
    if (!row) {
      v.lost++;
      note(`acked task ${t.taskId} (seq ${t.seq}) in ${t.roomId} is not in tasks`);
    } else if (row.events === 1 && Number(row.seq) !== t.seq) {
      v.lost++;
      note(`task ${t.taskId} acked as seq ${t.seq}, its task.created event is at seq ${row.seq}`);
    }
  }
  for (const r of rows.rows) {
    if (!calls.has(key(r.room_id, r.title))) {
      v.duplicated++;
      note(`task ${r.id} in ${r.room_id} ("${r.title}") belongs to no create call of the run`);
    }
    if (r.events !== 1) {
      if (r.events === 0) v.lost++;
      else v.duplicated += r.events - 1;
      note(`task ${r.id} in ${r.room_id} has ${r.events} task.created events`);
    }
  }
}

/**
 * The reports against their task.progress events, matched by sender and the opId in the event
 * body (so a report stored twice under two keys is caught too). Returns the solved delta that
 * counts per `task \t user`: every acknowledged first send, and an unacknowledged one that is
 * stored anyway.
 */
async function auditReports(db: Db, reports: ReportRecord[], rooms: string[], v: CoachingAudit, note: (p: string) => void): Promise<Map<string, number>> {
  const res = await db.query<{ sender_id: string; op_id: string | null; task_id: string; seq: number }>(
    `SELECT sender_id, body->>'opId' AS op_id, body->'progress'->>'taskId' AS task_id, seq
       FROM room_events WHERE room_id = ANY($1::text[]) AND kind = 'task.progress' ORDER BY seq`,
    [rooms],
  );
  const stored = new Map<string, Array<{ taskId: string; seq: number }>>();
  const seenMarks = new Map<string, number>();
  for (const r of res.rows) {
    // A seen mark is logged without an opId: at most one per (task, student).
    if (r.op_id === null) seenMarks.set(key(r.task_id, r.sender_id), (seenMarks.get(key(r.task_id, r.sender_id)) ?? 0) + 1);
    else stored.set(key(r.sender_id, r.op_id), [...(stored.get(key(r.sender_id, r.op_id)) ?? []), { taskId: r.task_id, seq: Number(r.seq) }]);
  }
  const counted = new Map<string, number>();
  const firstSeq = new Map<string, number>();
  const firsts = reports.filter((r) => !r.resend);
  for (const r of firsts) {
    const events = stored.get(key(r.userId, r.opId)) ?? [];
    stored.delete(key(r.userId, r.opId));
    if (events.length > 1) {
      v.duplicated += events.length - 1;
      note(`report ${r.opId} of ${r.userId} stored ${events.length} times (seqs ${events.map((e) => e.seq).join(", ")})`);
    }
    const ev = events[0];
    if (ev) firstSeq.set(key(r.userId, r.opId), ev.seq);
    if (r.seq === null && !ev) continue;
    if (r.seq === null) v.storedUnacked++;
    else {
      v.reportsAcked++;
      if (!ev || ev.seq !== r.seq || ev.taskId !== r.taskId) {
        v.lost++;
        note(`report ${r.opId} of ${r.userId} on ${r.taskId} acked as seq ${r.seq}, stored: ${ev ? `seq ${ev.seq} (task ${ev.taskId})` : "nothing"}`);
      }
    }
    const k = key(r.taskId, r.userId);
    counted.set(k, (counted.get(k) ?? 0) + r.solved);
  }
  for (const r of reports) {
    if (!r.resend || r.seq === null) continue;
    v.resent++;
    const first = firstSeq.get(key(r.userId, r.opId));
    if (!r.duplicate) {
      v.duplicated++;
      note(`resent report ${r.opId} of ${r.userId} was answered as new (seq ${r.seq}), not as a duplicate`);
    } else if (r.seq !== first) {
      v.mismatches++;
      note(`resent report ${r.opId} of ${r.userId} was answered duplicate with seq ${r.seq}; its first send is stored at ${first ?? "nothing"}`);
    } else v.duplicatesAnswered++;
  }
  const strays = [...stored.values()].flat();
  if (strays.length > 0) {
    v.duplicated += strays.length;
    note(`${strays.length} task.progress event(s) stored under no report of the run (seqs ${strays.slice(0, 5).map((e) => e.seq).join(", ")}…)`);
  }
  const seenTwice = [...seenMarks.values()].filter((n) => n > 1).length;
  if (seenTwice > 0) {
    v.duplicated += seenTwice;
    note(`${seenTwice} (task, student) seen mark(s) logged more than once`);
  }
  return counted;
}

/** Every assignee row of the run's tasks against the reports that count for it. */
async function auditTotals(db: Db, counted: Map<string, number>, seen: Set<string>, rooms: string[], v: CoachingAudit, note: (p: string) => void): Promise<void> {
  const rows = await db.query<{ task_id: string; user_id: string; state: string; solved: number; target: number | null }>(
    `SELECT a.task_id, a.user_id, a.state, a.solved, t.target
       FROM task_assignees a JOIN tasks t ON t.id = a.task_id WHERE t.room_id = ANY($1::text[])`,
    [rooms],
  );
  const checked = new Set<string>();
  for (const r of rows.rows) {
    const k = key(r.task_id, r.user_id);
    checked.add(k);
    v.assigneesChecked++;
    if (r.state === "done") v.done++;
    const expected = counted.get(k) ?? 0;
    const reached = r.target !== null && r.solved === r.target;
    if (r.solved !== expected) {
      v.mismatches++;
      note(`task ${r.task_id}: ${r.user_id} has solved ${r.solved} stored, the acknowledged reports add up to ${expected}`);
    } else if ((r.state === "done") !== reached) {
      v.mismatches++;
      note(`task ${r.task_id}: ${r.user_id} is "${r.state}" with ${r.solved} of ${r.target ?? "no target"}`);
    } else if (r.state === "assigned" && seen.has(k)) {
      v.mismatches++;
      note(`task ${r.task_id}: ${r.user_id} acked task:seen but is still "assigned"`);
    }
  }
  for (const [k, solved] of counted) {
    if (checked.has(k)) continue;
    v.mismatches++;
    note(`reports adding ${solved} acked for ${k.replace("\t", " by ")}, which has no assignee row`);
  }
}

/** Every user's highest acknowledged read mark must be stored (marks only move forward). */
async function auditReadMarks(db: Db, reads: Array<[string, string, number, number]>, v: CoachingAudit, note: (p: string) => void): Promise<void> {
  for (let i = 0; i < reads.length; i += CHUNK) {
    const chunk = reads.slice(i, i + CHUNK);
    const res = await db.query<{ room_id: string; user_id: string; last_read_seq: number }>(
      `SELECT room_id, user_id, last_read_seq FROM memberships
        WHERE (room_id, user_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [chunk.map((r) => r[0]), chunk.map((r) => r[1])],
    );
    const stored = new Map(res.rows.map((r) => [key(r.room_id, r.user_id), Number(r.last_read_seq)]));
    for (const [roomId, userId, requested, answered] of chunk) {
      v.readMarksChecked++;
      const mark = stored.get(key(roomId, userId)) ?? 0;
      if (answered < requested || mark < requested) {
        v.lost++;
        note(`${userId} marked ${roomId} read up to ${requested}; acked ${answered}, stored ${mark}`);
      }
    }
  }
}
