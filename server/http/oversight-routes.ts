import { z } from "zod";
import { pageQuerySchema } from "../../protocol/coaching-schemas.ts";
import { idSchema, seqSchema } from "../../protocol/schemas.ts";
import type { RoomOversight } from "../accounts/room-oversight.ts";
import { authenticatedRoutes, ok, type AuthenticatedContext } from "./authenticated.ts";
import { readParams, readQuery, type Route } from "./route.ts";

export interface OversightRoutesContext extends AuthenticatedContext {
  oversight: RoomOversight;
}

const roomPath = z.strictObject({ roomId: idSchema });
const historyQuery = z
  .strictObject({
    before: z.coerce.number().pipe(seqSchema.min(1)).optional(),
    after: z.coerce.number().pipe(seqSchema).optional(),
    limit: z.coerce.number().int().min(1).optional(),
  })
  .refine((v) => v.before === undefined || v.after === undefined, { message: "give before or after, not both" });

/** Safeguarding: an admin lists and reads any room of the institution (each read audited). */
export function oversightRoutes(ctx: OversightRoutesContext): Route[] {
  const route = authenticatedRoutes(ctx);
  return [
    route("GET", "/api/admin/rooms", async (req, p) => ok(await ctx.oversight.list(p, readQuery(req, pageQuerySchema)))),
    route("GET", "/api/admin/rooms/:roomId", async (req, p) => ok(await ctx.oversight.members(p, readParams(req, roomPath).roomId, req.ip))),
    route("GET", "/api/admin/rooms/:roomId/events", async (req, p) =>
      ok(await ctx.oversight.events(p, readParams(req, roomPath).roomId, readQuery(req, historyQuery), req.ip)),
    ),
  ];
}
