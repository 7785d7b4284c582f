import { z } from "zod";
import { CoachwireError } from "../../protocol/errors.ts";
import { consentSchema } from "../../protocol/family-schemas.ts";
import { idSchema } from "../../protocol/schemas.ts";
import type { Db } from "../../db/db.ts";
import { AuditLog } from "../accounts/audit-log.ts";
import { requirePermission } from "../accounts/roles.ts";
import type { Principal } from "../auth/auth-service.ts";
import type { Consents } from "../privacy/consents.ts";
import { exportUserData } from "../privacy/data-export.ts";
import type { UserErasure } from "../privacy/user-erasure.ts";
import { authenticatedRoutes, ok, type AuthenticatedContext } from "./authenticated.ts";
import { readJson, readParams, type HttpReply, type Route } from "./route.ts";

export interface PrivacyRoutesContext extends AuthenticatedContext {
  db: Db;
  consents: Consents;
  erasure: UserErasure;
}

const userPath = z.strictObject({ userId: idSchema });

/** Privacy: the terms in force and the caller's consent, data exports (one's own, or an admin's), an admin's deletion. */
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
  ];
}
