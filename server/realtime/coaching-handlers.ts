import { msgDeleteSchema, msgReadSchema, roomUpdateEventSchema, taskCancelSchema, taskCreateSchema, taskProgressSchema, taskRefSchema, taskUpdateSchema } from "../../protocol/coaching-schemas.ts";
import type { Coaching } from "../coaching/coaching.ts";
import type { RoomReads } from "../rooms/room-reads.ts";
import type { RequestRouter } from "./request-handler.ts";

export interface CoachingHandlersContext {
  coaching: Coaching;
  reads: RoomReads;
}

/**
 * The coaching request events: room settings, read marks, message deletion, and tasks with their progress and
 * board. Each is a thin call into the coaching services (the REST routes make the same calls),
 * which check roles and write state and log together.
 */
export function coachingEvents(router: RequestRouter, ctx: CoachingHandlersContext): void {
  const { coaching } = ctx;

  router.on("msg:read", msgReadSchema, async ({ roomId, seq }, { userId }) => ({ lastReadSeq: await ctx.reads.markRead(userId, roomId, seq) }));
  router.on("room:update", roomUpdateEventSchema, async ({ roomId, ...settings }, { userId }) => {
    const { room } = await coaching.rooms.updateSettings(userId, roomId, settings);
    return { room };
  });
  router.on("msg:delete", msgDeleteSchema, ({ roomId, seq }, { userId, socket }) => coaching.rooms.deleteMessage(userId, roomId, seq, socket.data.ip));
  router.on("task:create", taskCreateSchema, (req, { userId }) => coaching.tasks.create(userId, req));
  router.on("task:update", taskUpdateSchema, (req, { userId }) => coaching.tasks.update(userId, req));
  router.on("task:cancel", taskCancelSchema, (req, { userId }) => coaching.tasks.cancel(userId, req));
  router.on("task:seen", taskRefSchema, ({ taskId }, { userId }) => coaching.progress.seen(userId, taskId));
  router.on("task:progress", taskProgressSchema, (req, { userId }) => coaching.progress.report(userId, req));
  router.on("task:board", taskRefSchema, async ({ taskId }, { userId }) => ({ board: await coaching.boards.board(userId, taskId) }));
}
