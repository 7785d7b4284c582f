import { z } from "zod";
import { noticeQuerySchema, pageQuerySchema, settingsSchema, taskCancelSchema, taskCreateSchema, taskProgressSchema, taskUpdateSchema } from "../../protocol/coaching-schemas.ts";
import { idSchema } from "../../protocol/schemas.ts";
import type { Coaching } from "../coaching/coaching.ts";
import { authenticatedRoutes, ok, type AuthenticatedContext } from "./authenticated.ts";
import { readJson, readParams, readQuery, type Route } from "./route.ts";

export interface TaskRoutesContext extends AuthenticatedContext {
  coaching: Coaching;
}

const roomPath = z.strictObject({ roomId: idSchema });
const taskPath = z.strictObject({ taskId: idSchema });
const studentPath = z.strictObject({ roomId: idSchema, userId: idSchema });

/** Tasks, progress, boards, summaries, and the caller's notices and settings over REST (the same service calls as the socket events). */
export function taskRoutes(ctx: TaskRoutesContext): Route[] {
  const { coaching } = ctx;
  const route = authenticatedRoutes(ctx);
  return [
    route("GET", "/api/rooms/:roomId/tasks", async (req, p) =>
      ok(await coaching.boards.roomTasks(p.userId, readParams(req, roomPath).roomId, readQuery(req, pageQuerySchema))),
    ),
    route("POST", "/api/rooms/:roomId/tasks", async (req, p) => {
      const result = await coaching.tasks.create(p.userId, readJson(req, taskCreateSchema, readParams(req, roomPath)));
      return ok(result, result.duplicate ? 200 : 201);
    }),
    route("GET", "/api/rooms/:roomId/students/:userId/summary", async (req, p) => {
      const { roomId, userId } = readParams(req, studentPath);
      return ok({ summary: await coaching.boards.studentSummary(p.userId, roomId, userId) });
    }),
    route("GET", "/api/me/tasks", async (req, p) => ok(await coaching.boards.myTasks(p.userId, readQuery(req, pageQuerySchema)))),
    route("GET", "/api/me/notices", async (req, p) => {
      const q = readQuery(req, noticeQuerySchema);
      return ok(await coaching.notices.list(p.userId, q.kind, q));
    }),
    route("GET", "/api/me/settings", async (_req, p) => ok({ settings: await coaching.notices.settings(p.userId) })),
    route("PATCH", "/api/me/settings", async (req, p) => ok({ settings: await coaching.notices.updateSettings(p.userId, readJson(req, settingsSchema)) })),
    route("GET", "/api/tasks/:taskId", async (req, p) => ok({ task: await coaching.tasks.get(p.userId, readParams(req, taskPath).taskId) })),
    route("PATCH", "/api/tasks/:taskId", async (req, p) => ok(await coaching.tasks.update(p.userId, readJson(req, taskUpdateSchema, readParams(req, taskPath))))),
    route("POST", "/api/tasks/:taskId/cancel", async (req, p) => ok(await coaching.tasks.cancel(p.userId, readJson(req, taskCancelSchema, readParams(req, taskPath))))),
    route("GET", "/api/tasks/:taskId/board", async (req, p) => ok({ board: await coaching.boards.board(p.userId, readParams(req, taskPath).taskId) })),
    route("POST", "/api/tasks/:taskId/seen", async (req, p) => ok(await coaching.progress.seen(p.userId, readParams(req, taskPath).taskId))),
    route("POST", "/api/tasks/:taskId/progress", async (req, p) =>
      ok(await coaching.progress.report(p.userId, readJson(req, taskProgressSchema, readParams(req, taskPath)))),
    ),
  ];
}
