import { msgDeleteSchema, msgReadSchema, taskCancelSchema, taskCreateSchema, taskProgressSchema, taskRefSchema, taskUpdateSchema } from "../../protocol/coaching-schemas.ts";
import type { Coaching } from "../coaching/coaching.ts";
import type { RoomRegistry } from "../rooms/room-registry.ts";
import { onRequest, type RequestGuards } from "./request-handler.ts";
import type { CoachSocket } from "./socket-types.ts";

export interface CoachingHandlersContext {
  coaching: Coaching;
  rooms: RoomRegistry;
  guards: RequestGuards;
}

/**
 * The coaching request events: read marks, message deletion, and tasks with their progress and
 * board. Each is a thin call into the coaching services (the REST routes make the same calls),
 * which check roles and write state and log together.
 */
export function registerCoachingHandlers(socket: CoachSocket, ctx: CoachingHandlersContext): void {
  const { coaching, guards } = ctx;

  onRequest(socket, "msg:read", msgReadSchema, guards, async ({ roomId, seq }, { userId }) => {
    await ctx.rooms.get(roomId).authorize(userId);
    return { lastReadSeq: await coaching.readMarks.mark(roomId, userId, seq) };
  });
  onRequest(socket, "msg:delete", msgDeleteSchema, guards, ({ roomId, seq }, { userId }) => coaching.rooms.deleteMessage(userId, roomId, seq));
  onRequest(socket, "task:create", taskCreateSchema, guards, (req, { userId }) => coaching.tasks.create(userId, req));
  onRequest(socket, "task:update", taskUpdateSchema, guards, (req, { userId }) => coaching.tasks.update(userId, req));
  onRequest(socket, "task:cancel", taskCancelSchema, guards, (req, { userId }) => coaching.tasks.cancel(userId, req));
  onRequest(socket, "task:seen", taskRefSchema, guards, ({ taskId }, { userId }) => coaching.progress.seen(userId, taskId));
  onRequest(socket, "task:progress", taskProgressSchema, guards, (req, { userId }) => coaching.progress.report(userId, req));
  onRequest(socket, "task:board", taskRefSchema, guards, async ({ taskId }, { userId }) => ({ board: await coaching.boards.board(userId, taskId) }));
}
