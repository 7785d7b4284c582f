import { signal, type Signal } from "@preact/signals";
import type { CoachingEventBodies, ProgressView, TaskView } from "../../../protocol/coaching.ts";
import type { RoomEvent } from "../../../protocol/events.ts";
import { currentUser, onSessionEnd } from "../session/session.ts";
import { api } from "./api.ts";
import { onStream } from "./live.ts";
import type { TaskListItem } from "./types.ts";

/**
 * Task lists: a room's tasks and "my tasks" across rooms. Read once over REST, then kept
 * current by the room stream: task.created/updated/cancelled replace the task, the user's own
 * task.progress replaces `mine`. A coach's funnel counts are re-read when a progress event of
 * that task arrives (the board page applies events itself).
 */

const roomTasks = new Map<string, Signal<TaskListItem[] | null>>();
/** The caller's assigned tasks across rooms (null until loaded). */
export const myTasks = signal<TaskListItem[] | null>(null);

/** The signal holding a room's task list; the first call loads it. */
export function tasksOf(roomId: string): Signal<TaskListItem[] | null> {
  let list = roomTasks.get(roomId);
  if (!list) {
    roomTasks.set(roomId, (list = signal(null)));
    void reloadRoom(roomId);
  }
  return list;
}

async function reloadRoom(roomId: string): Promise<void> {
  const page = await api<{ items: TaskListItem[] }>("GET", `/api/rooms/${encodeURIComponent(roomId)}/tasks?limit=100`).catch(() => undefined);
  const list = roomTasks.get(roomId);
  if (page && list) list.value = page.items;
}

/** Loads (or re-reads) the caller's tasks across rooms. */
export async function loadMyTasks(): Promise<void> {
  const page = await api<{ items: TaskListItem[] }>("GET", "/api/me/tasks?limit=200");
  myTasks.value = page.items;
}

function withTask(items: TaskListItem[], task: TaskView, mine: ProgressView | null | undefined): TaskListItem[] {
  const found = items.some((i) => i.task.id === task.id);
  if (!found) return [{ task, funnel: null, mine: mine ?? null }, ...items];
  return items.map((i) => (i.task.id === task.id ? { ...i, task, ...(mine !== undefined ? { mine } : {}) } : i));
}

function withProgress(items: TaskListItem[], progress: ProgressView): TaskListItem[] {
  return items.map((i) => (i.task.id === progress.taskId ? { ...i, mine: progress } : i));
}

const funnelReloads = new Map<string, ReturnType<typeof setTimeout>>();

function onEvent(event: RoomEvent): void {
  const me = currentUser.value?.id;
  const list = roomTasks.get(event.roomId);
  switch (event.kind) {
    case "task.created":
    case "task.updated":
    case "task.cancelled": {
      const { task } = event.body as CoachingEventBodies["task.created"];
      const assigned = me !== undefined && task.assignees.includes(me);
      const fresh: ProgressView | null | undefined =
        event.kind === "task.created" && assigned
          ? { taskId: task.id, userId: me, state: "assigned", solved: 0, correct: 0, wrong: 0, late: false, seenAt: null, startedAt: null, doneAt: null }
          : event.kind === "task.created"
            ? null
            : undefined;
      if (list?.value) list.value = withTask(list.value, task, fresh);
      if (myTasks.value && (assigned || myTasks.value.some((i) => i.task.id === task.id))) myTasks.value = withTask(myTasks.value, task, fresh);
      if (event.kind === "task.created" && list) scheduleFunnel(event.roomId);
      break;
    }
    case "task.progress": {
      // A classmate's report in a room that does not share progress arrives as {redacted: true}.
      const { progress } = event.body as Partial<CoachingEventBodies["task.progress"]>;
      if (!progress) break;
      if (progress.userId === me) {
        if (list?.value) list.value = withProgress(list.value, progress);
        if (myTasks.value) myTasks.value = withProgress(myTasks.value, progress);
      } else if (list?.value?.some((i) => i.funnel !== null)) {
        scheduleFunnel(event.roomId);
      }
      break;
    }
    case "member.added":
    case "member.removed":
      if (list?.value?.some((i) => i.funnel !== null)) scheduleFunnel(event.roomId);
  }
}

/** A coach's funnels changed: read the list again once the burst of events has passed. */
function scheduleFunnel(roomId: string): void {
  clearTimeout(funnelReloads.get(roomId));
  funnelReloads.set(roomId, setTimeout(() => void reloadRoom(roomId), 300));
}

onStream((input) => {
  if ("kind" in input) onEvent(input);
});

onSessionEnd(() => {
  roomTasks.clear();
  myTasks.value = null;
});
