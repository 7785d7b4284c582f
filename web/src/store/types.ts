import type { Funnel, ProgressView, TaskView } from "../../../protocol/coaching.ts";

/** A task in a list (GET /api/rooms/:roomId/tasks, GET /api/me/tasks). */
export interface TaskListItem {
  task: TaskView;
  funnel: Funnel | null;
  mine: ProgressView | null;
}

/** A notice in the inbox (GET /api/me/notices). */
export interface NoticeView {
  id: number;
  kind: "reminder" | "nudge" | "overdue" | "digest";
  roomId: string;
  seq: number;
  body: Record<string, unknown>;
  createdAt: number;
}

/** The user's notice settings (GET/PATCH /api/me/settings). */
export interface UserSettings {
  timeZone: string;
  quietHours: { start: string; end: string };
}

/** A message this user typed that the server has not stored yet. */
export interface PendingMessage {
  clientId: string;
  text: string;
  createdAt: number;
  status: "sending" | "failed";
}
