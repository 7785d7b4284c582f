import { z } from "zod";
import { pageQuerySchema } from "../../protocol/coaching-schemas.ts";
import { consentSchema } from "../../protocol/family-schemas.ts";
import { idSchema, seqSchema } from "../../protocol/schemas.ts";
import type { Db } from "../../db/db.ts";
import { AuditLog } from "../accounts/audit-log.ts";
import { requirePermission } from "../accounts/roles.ts";
import type { RoomOversight } from "../accounts/room-oversight.ts";
import type { SessionList } from "../accounts/session-list.ts";
import type { Principal } from "../auth/auth-service.ts";
import type { Consents } from "../privacy/consents.ts";
import { exportUserData } from "../privacy/data-export.ts";
import type { UserErasure } from "../privacy/user-erasure.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import { authenticatedRoutes, ok, type AuthenticatedContext } from "./authenticated.ts";
import { readJson, readParams, readQuery, type HttpReply, type Route } from "./route.ts";

export interface PrivacyRoutesContext extends AuthenticatedContext {
  db: Db;
  sessions: SessionList;
  consents: Consents;
  erasure: UserErasure;
  oversight: RoomOversight;
}

const sessionPath = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be a session id") });
const userPath = z.strictObject({ userId: idSchema });
const roomPath = z.strictObject({ roomId: idSchema });
const historyQuery = z
  .strictObject({
    before: z.coerce.number().pipe(seqSchema.min(1)).optional(),
    after: z.coerce.number().pipe(seqSchema).optional(),
    limit: z.coerce.number().int().min(1).optional(),
  })
  .refine((v) => v.before === undefined || v.after === undefined, { message: "give before or after, not both" });

/** The caller's sessions, consent and data export; an admin's export, deletion and reading of rooms. */
export function privacyRoutes(ctx: PrivacyRoutesContext): Route[] {
  const route = authenticatedRoutes(ctx);
  /** Streams one user's export after its audit row is written. */
  async function exportReply(actor: Principal, userId: string, ip: string): Promise<HttpReply> {
    await AuditLog.record(ctx.db, { institutionId: actor.institutionId, actorId: actor.userId, action: "user.export", targetType: "user", targetId: userId, ip });
    return { status: 200, body: undefined, contentType: "application/json", stream: exportUserData(ctx.db, userId) };
  }
  return [
    // Public: what a sign-up form must have the user accept.
    { method: "GET", path: "/api/terms", handle: async () => ok({ terms: { version: ctx.consents.currentVersion } }) },
    route("GET", "/api/me/sessions", async (_req, p) => ok({ items: await ctx.sessions.list(p.userId, p.familyId) })),
    route("DELETE", "/api/me/sessions/:id", async (req, p) => {
      await ctx.sessions.revoke(p.userId, readParams(req, sessionPath).id);
      return ok();
    }),
    route("DELETE", "/api/me/sessions", async (_req, p) => ok({ revoked: await ctx.sessions.revokeAll(p.userId) })),
    route("GET", "/api/me/consent", async (_req, p) => ok({ consent: await ctx.consents.state(p.userId) })),
    route("POST", "/api/me/consent", async (req, p) => ok({ consent: await ctx.consents.accept(p.userId, readJson(req, consentSchema).version, req.ip) })),
    route("GET", "/api/me/export", async (req, p) => exportReply(p, p.userId, req.ip)),
    route("GET", "/api/admin/users/:userId/export", async (req, p) => {
      requirePermission(p.role, "people.manage");
      const { userId } = readParams(req, userPath);
      const found = await ctx.db.query("SELECT 1 FROM users WHERE id = $1 AND institution_id = $2", [userId, p.institutionId]);
      if (found.rows.length === 0) throw new CoachwireError("NOT_FOUND", "No such user");
      return exportReply(p, userId, req.ip);
    }),
    route("DELETE", "/api/admin/users/:userId", async (req, p) => ok({ deletion: await ctx.erasure.erase(p, readParams(req, userPath).userId, req.ip) })),
    route("GET", "/api/admin/rooms", async (req, p) => ok(await ctx.oversight.list(p, readQuery(req, pageQuerySchema)))),
    route("GET", "/api/admin/rooms/:roomId", async (req, p) => ok(await ctx.oversight.members(p, readParams(req, roomPath).roomId, req.ip))),
    route("GET", "/api/admin/rooms/:roomId/events", async (req, p) =>
      ok(await ctx.oversight.events(p, readParams(req, roomPath).roomId, readQuery(req, historyQuery), req.ip)),
    ),
  ];
}
