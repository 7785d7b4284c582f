/**
 * The coaching domain as clients see it: tasks, each assignee's progress, the coach's board,
 * and the bodies of the room-log events that announce every change.
 */

export type TaskStatus = "open" | "cancelled";
/** An assignee's state only moves forward: assigned → seen → started → done. */
export type ProgressState = "assigned" | "seen" | "started" | "done";
export const PROGRESS_STATES: readonly ProgressState[] = ["assigned", "seen", "started", "done"];

export interface TaskView {
  id: string;
  roomId: string;
  title: string;
  details: string;
  subjectId: string | null;
  /** The countable target, or null for a task that is simply done or not. */
  target: number | null;
  /** Milliseconds since the epoch, or null. */
  dueAt: number | null;
  urgent: boolean;
  /** True when every student of the room is assigned, including later joiners. */
  assignAll: boolean;
  assignees: string[];
  status: TaskStatus;
  createdBy: string;
  /** The seq of the task.created event in the room's log. */
  createdSeq: number;
  createdAt: number;
}

export interface ProgressView {
  taskId: string;
  userId: string;
  state: ProgressState;
  solved: number;
  correct: number;
  wrong: number;
  /** Done after the due time. */
  late: boolean;
  seenAt: number | null;
  startedAt: number | null;
  doneAt: number | null;
}

/** One row of the coach's board. */
export interface BoardRow extends ProgressView {
  displayName: string;
  /** The student's read mark has passed the task (or they acted on it). */
  delivered: boolean;
  /** Not done and the due time has passed. */
  overdue: boolean;
  /** A pace check found the student behind what the target needs (cleared when done). */
  behindPace: boolean;
}

/** Assignees per stage; each stage counts everyone who reached it or a later one. */
export interface Funnel {
  assigned: number;
  delivered: number;
  seen: number;
  started: number;
  done: number;
  late: number;
  overdue: number;
}

export interface TaskBoard {
  task: TaskView;
  rows: BoardRow[];
  funnel: Funnel;
}

/** Across the tasks a student is assigned in one room. */
export interface StudentSummary {
  userId: string;
  roomId: string;
  assigned: number;
  open: number;
  doneOnTime: number;
  doneLate: number;
  overdue: number;
  /** Mean completion over the tasks, 0..1 (a counted task: solved/target; otherwise done or not). */
  averageCompletion: number;
}

export interface SubjectView {
  id: string;
  name: string;
  topic: string;
}

/** A room in the user's room list. */
export interface RoomSummary {
  id: string;
  name: string;
  kind: "group" | "direct";
  role: "coach" | "student";
  lastSeq: number;
  lastReadSeq: number;
  /** lastSeq − lastReadSeq. */
  unread: number;
  muted: boolean;
  /** Classmates see each other's task.progress in full (true) or redacted (false, the default). */
  shareProgress: boolean;
  lastEvent: { seq: number; kind: string; senderId: string | null; createdAt: number } | null;
}

/** A page of a list that can grow; pass `nextCursor` back as `cursor` for the next page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The kinds of notice the worker sends. */
export type NoticeKind = "reminder" | "nudge" | "overdue" | "digest";

interface NoticeBase {
  /** The recipient. */
  userId: string;
  text: string;
}

/** The body of a `notice` event, by notice kind. */
export type NoticeBody =
  | (NoticeBase & { notice: "reminder"; taskId: string; title: string; dueAt: number })
  | (NoticeBase & { notice: "nudge"; taskId: string; title: string; dueAt: number; solved: number; target: number })
  | (NoticeBase & { notice: "overdue"; taskId: string; title: string; dueAt: number; missed: { userId: string; displayName: string; solved: number }[] })
  | (NoticeBase & {
      notice: "digest";
      /** The coach's local date (YYYY-MM-DD). */
      day: string;
      doneOnTime: number;
      doneLate: number;
      overdue: number;
      open: number;
      leastActive: { userId: string; displayName: string; reports: number }[];
    });

/** Bodies of the coaching events in a room's log, by kind. */
export interface CoachingEventBodies {
  "task.created": { task: TaskView };
  "task.updated": { task: TaskView; changed: string[] };
  "task.cancelled": { task: TaskView; taskId: string };
  /**
   * `shared`: the room's shareProgress when it was reported (classmates got it in full); absent or
   * false, classmates get `{redacted: true}` instead (server/log/audience.ts).
   */
  "task.progress": { progress: ProgressView; opId: string | null; shared?: boolean };
  "chat.deleted": { seq: number };
  "member.added": { userId: string; displayName: string; role: "coach" | "student"; via: "create" | "invite" | "code" };
  "member.removed": { userId: string };
  "member.muted": { userId: string; muted: boolean };
  /** A room coach changed the room's settings. */
  "room.updated": { shareProgress: boolean };
  /**
   * From the worker: a due reminder or a pace nudge (to an assignee), an overdue notice or a
   * daily digest (to the coach). `userId` is the recipient.
   */
  notice: NoticeBody;
}

export type CoachingEventKind = keyof CoachingEventBodies;

/** The funnel of a board's rows: each stage counts everyone who reached it or a later one. */
export function funnelOf(rows: readonly { state: ProgressState; delivered: boolean; late: boolean; overdue: boolean }[]): Funnel {
  const reached = (state: ProgressState) => rows.filter((r) => PROGRESS_STATES.indexOf(r.state) >= PROGRESS_STATES.indexOf(state)).length;
  return {
    assigned: rows.length,
    delivered: rows.filter((r) => r.delivered).length,
    seen: reached("seen"),
    started: reached("started"),
    done: reached("done"),
    late: rows.filter((r) => r.late).length,
    overdue: rows.filter((r) => r.overdue).length,
  };
}
