import { randomBytes } from "node:crypto";
import type { TaskView } from "../../protocol/coaching.ts";
import type { TaskCancelRequest, TaskCreateRequest, TaskUpdateRequest } from "../../protocol/coaching-schemas.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { TaskResult } from "../../protocol/events.ts";
import type { Db, Queryable } from "../../db/db.ts";
import { only, type LogTransaction, type RoomLogWriter } from "../log/log-transaction.ts";
import { UNLIMITED, type CreationQuota } from "../ratelimit/creation-quota.ts";
import { membershipOf, requireRoomCoach } from "./access.ts";
import { loadTask, loadTaskView } from "./task-store.ts";

/** Called after a task is created, edited or cancelled (the worker schedules its reminders from this). */
export type TaskListener = (task: TaskView, change: "created" | "updated" | "cancelled") => void;

/**
 * Tasks: a coach creates, edits and cancels them. Each change and its room-log event
 * (task.created / task.updated / task.cancelled) commit in one transaction, so tasks are
 * ordered and recovered like chat. Every change carries a client-chosen id: a retry answers
 * the first try's result and writes nothing.
 */
export class TaskService {
  constructor(
    private readonly db: Db,
    private readonly writer: RoomLogWriter,
    private readonly onChange: TaskListener = () => {},
    private readonly quota: Pick<CreationQuota, "charge"> = UNLIMITED,
  ) {}

  async create(userId: string, req: TaskCreateRequest): Promise<TaskResult> {
    const result = await this.writer.write(req.roomId, async (log) => {
      const lastSeq = await log.lockRoom(req.roomId);
      await requireRoomCoach(log.tx, req.roomId, userId);
      const clientId = `task.create:${userId}:${req.clientId}`;
      const earlier = await log.findByClientId(req.roomId, userId, clientId);
      if (earlier) {
        const taskId = (earlier.body as { task: TaskView }).task.id;
        return { task: await loadTaskView(log.tx, taskId), seq: earlier.seq, duplicate: true };
      }
      if (req.dueAt !== null && req.dueAt < Date.now()) throw new CoachwireError("VALIDATION_FAILED", "dueAt: is in the past");
      await checkSubject(log.tx, req.roomId, req.subjectId);
      const assignees = await this.resolveAssignees(log.tx, req.roomId, req.assignees);
      // Last, once nothing else refuses it: a repeat or a refused request costs no quota.
      await this.quota.charge("task", userId);
      const id = `t_${randomBytes(9).toString("base64url")}`;
      await log.tx.query(
        `INSERT INTO tasks (id, room_id, created_by, title, details, subject_id, target, due_at, urgent, assign_all, created_seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [id, req.roomId, userId, req.title, req.details, req.subjectId, req.target, toDate(req.dueAt), req.urgent, req.assignees === "all", lastSeq + 1],
      );
      await log.tx.query("INSERT INTO task_assignees (task_id, user_id) SELECT $1, unnest($2::text[])", [id, assignees]);
      const task = await loadTaskView(log.tx, id);
      const { event } = only(await log.append([{ roomId: req.roomId, clientId, kind: "task.created", senderId: userId, body: { task } }]));
      return { task, seq: event.seq, duplicate: false };
    });
    if (!result.duplicate) this.onChange(result.task, "created");
    return result;
  }

  async update(userId: string, req: TaskUpdateRequest): Promise<TaskResult> {
    return this.change(userId, req.taskId, `task.update:${userId}:${req.taskId}:${req.clientId}`, "task.updated", async (log) => {
      const changed: string[] = [];
      const sets: string[] = [];
      const params: unknown[] = [req.taskId];
      const set = (column: string, field: string, value: unknown) => {
        params.push(value);
        sets.push(`${column} = $${params.length}`);
        changed.push(field);
      };
      if (req.title !== undefined) set("title", "title", req.title);
      if (req.details !== undefined) set("details", "details", req.details);
      if (req.subjectId !== undefined) {
        await checkSubject(log.tx, (await loadTask(log.tx, req.taskId)).room_id, req.subjectId);
        set("subject_id", "subjectId", req.subjectId);
      }
      if (req.target !== undefined) {
        if (req.target !== null) {
          const most = await log.tx.query<{ solved: number }>("SELECT coalesce(max(solved), 0) AS solved FROM task_assignees WHERE task_id = $1", [req.taskId]);
          if (most.rows[0]!.solved > req.target) {
            throw new CoachwireError("COUNT_OUT_OF_RANGE", `target ${req.target} is below a count already reported (${most.rows[0]!.solved})`);
          }
        }
        set("target", "target", req.target);
      }
      if (req.dueAt !== undefined) {
        if (req.dueAt !== null && req.dueAt < Date.now()) throw new CoachwireError("VALIDATION_FAILED", "dueAt: is in the past");
        set("due_at", "dueAt", toDate(req.dueAt));
      }
      if (req.urgent !== undefined) set("urgent", "urgent", req.urgent);
      await log.tx.query(`UPDATE tasks SET ${sets.join(", ")}, updated_at = now() WHERE id = $1`, params);
      return (task) => ({ task, changed });
    });
  }

  async cancel(userId: string, req: TaskCancelRequest): Promise<TaskResult> {
    return this.change(userId, req.taskId, `task.cancel:${userId}:${req.taskId}:${req.clientId}`, "task.cancelled", async (log) => {
      await log.tx.query("UPDATE tasks SET status = 'cancelled', updated_at = now() WHERE id = $1", [req.taskId]);
      return (task) => ({ taskId: task.id });
    });
  }

  /** Any member of the task's room may read it. */
  async get(userId: string, taskId: string): Promise<TaskView> {
    const task = await loadTaskView(this.db, taskId);
    await membershipOf(this.db, task.roomId, userId, "TASK_NOT_FOUND");
    return task;
  }

  /** Edit or cancel: lock the room, check the coach, answer a repeat, refuse a cancelled task, apply, log. */
  private async change(
    userId: string,
    taskId: string,
    clientId: string,
    kind: "task.updated" | "task.cancelled",
    apply: (log: LogTransaction) => Promise<(task: TaskView) => Record<string, unknown>>,
  ): Promise<TaskResult> {
    const { room_id: roomId } = await loadTask(this.db, taskId);
    const result = await this.writer.write(roomId, async (log) => {
      await log.lockRoom(roomId);
      await requireRoomCoach(log.tx, roomId, userId, "TASK_NOT_FOUND");
      const earlier = await log.findByClientId(roomId, userId, clientId);
      if (earlier) return { task: await loadTaskView(log.tx, taskId), seq: earlier.seq, duplicate: true };
      if ((await loadTask(log.tx, taskId)).status === "cancelled") throw new CoachwireError("TASK_CANCELLED");
      const body = await apply(log);
      const task = await loadTaskView(log.tx, taskId);
      const { event } = only(await log.append([{ roomId, clientId, kind, senderId: userId, body: { task, ...body(task) } }]));
      return { task, seq: event.seq, duplicate: false };
    });
    if (!result.duplicate) this.onChange(result.task, kind === "task.updated" ? "updated" : "cancelled");
    return result;
  }

  /** "all" → the room's students now; a list → each must be a student of the room. */
  private async resolveAssignees(q: Queryable, roomId: string, wanted: "all" | string[]): Promise<string[]> {
    const students = await q.query<{ user_id: string }>("SELECT user_id FROM memberships WHERE room_id = $1 AND role = 'student' ORDER BY user_id", [roomId]);
    const ids = students.rows.map((r) => r.user_id);
    if (wanted === "all") return ids;
    const inRoom = new Set(ids);
    const unique = [...new Set(wanted)];
    const strangers = unique.filter((id) => !inRoom.has(id));
    if (strangers.length > 0) throw new CoachwireError("VALIDATION_FAILED", `assignees: not students of this room: ${strangers.slice(0, 5).join(", ")}`);
    return unique;
  }
}

/** The subject must be a built-in one or one of the room's institution. */
async function checkSubject(q: Queryable, roomId: string, subjectId: string | null): Promise<void> {
  if (subjectId === null) return;
  const found = await q.query(
    "SELECT 1 FROM subjects s JOIN rooms r ON r.id = $2 WHERE s.id = $1 AND (s.institution_id IS NULL OR s.institution_id = r.institution_id)",
    [subjectId, roomId],
  );
  if (found.rows.length === 0) throw new CoachwireError("VALIDATION_FAILED", `subjectId: no subject ${subjectId}`);
}

const toDate = (ms: number | null) => (ms === null ? null : new Date(ms));
