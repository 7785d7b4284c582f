import { auditQuerySchema, importJsonSchema, importQuerySchema, inviteCreateSchema, outboxQuerySchema, userCreateSchema, userListQuerySchema, userPathSchema, userRoleSchema } from "../../protocol/account-schemas.ts";
import type { Db } from "../../db/db.ts";
import type { Accounts } from "../accounts/accounts.ts";
import { AuditLog } from "../accounts/audit-log.ts";
import { requirePermission, type Permission } from "../accounts/roles.ts";
import type { Principal } from "../auth/auth-service.ts";
import { Outbox } from "../mail/outbox.ts";
import { authenticatedRoutes, ok, type AuthenticatedContext } from "./authenticated.ts";
import { readJson, readJsonCheckedElsewhere, readParams, readQuery, type HttpReply, type HttpRequest, type Route } from "./route.ts";

export interface AdminRoutesContext extends AuthenticatedContext {
  db: Db;
  accounts: Accounts;
}

const actor = (req: HttpRequest, principal: Principal) => ({ principal, ip: req.ip });

/**
 * The institution admin's routes: people (list, create, CSV import and export, deactivate,
 * reactivate, role), invitations, the mail outbox and the audit log. Every route is admin-only
 * (FORBIDDEN for anyone else) and sees only the admin's own institution.
 */
export function adminRoutes(ctx: AdminRoutesContext): Route[] {
  const { accounts } = ctx;
  const authed = authenticatedRoutes(ctx);
  // The role is checked before anything is read, so a non-admin learns nothing from a route but FORBIDDEN.
  const route = (method: Route["method"], path: string, handler: (req: HttpRequest, p: Principal) => Promise<HttpReply>, permission: Permission = "people.manage") =>
    authed(method, path, async (req, p) => {
      requirePermission(p.role, permission);
      return handler(req, p);
    });
  return [
    route("GET", "/api/admin/users", async (req, p) => ok(await accounts.people.list(actor(req, p), readQuery(req, userListQuerySchema)))),
    route("POST", "/api/admin/users", async (req, p) => {
      return ok({ user: await accounts.people.create(actor(req, p), readJson(req, userCreateSchema)) }, 201);
    }),
    route("GET", "/api/admin/users/export.csv", async (req, p) => ({
      status: 200,
      body: await accounts.people.exportCsv(actor(req, p)),
      contentType: "text/csv; charset=utf-8",
    })),
    route("POST", "/api/admin/users/import", async (req, p) => {
      const isCsv = (req.headers["content-type"] ?? "").toLowerCase().startsWith("text/csv");
      if (isCsv) return ok({ report: await accounts.imports.run(actor(req, p), req.body, readQuery(req, importQuerySchema).dryRun) });
      // The CSV text's U+0000 is the importer's to refuse (CSV_INVALID), so the body skips the generic check.
      const body = readJsonCheckedElsewhere(req, importJsonSchema);
      return ok({ report: await accounts.imports.run(actor(req, p), body.csv, body.dryRun) });
    }),
    route("GET", "/api/admin/users/:userId", async (req, p) => ok({ user: await accounts.people.get(actor(req, p), readParams(req, userPathSchema).userId) })),
    route("PATCH", "/api/admin/users/:userId", async (req, p) => {
      const { userId } = readParams(req, userPathSchema);
      return ok({ user: await accounts.people.changeRole(actor(req, p), userId, readJson(req, userRoleSchema).role) });
    }),
    route("POST", "/api/admin/users/:userId/deactivate", async (req, p) =>
      ok({ user: await accounts.people.deactivate(actor(req, p), readParams(req, userPathSchema).userId) }),
    ),
    route("POST", "/api/admin/users/:userId/reactivate", async (req, p) =>
      ok({ user: await accounts.people.reactivate(actor(req, p), readParams(req, userPathSchema).userId) }),
    ),
    route("POST", "/api/admin/invites", async (req, p) => {
      return ok({ invite: await accounts.invites.invite(actor(req, p), readJson(req, inviteCreateSchema)) }, 201);
    }),
    route("GET", "/api/admin/outbox", async (req, p) => {
      return ok(await Outbox.list(ctx.db, p.institutionId, readQuery(req, outboxQuerySchema)));
    }),
    route("GET", "/api/admin/audit", async (req, p) => ok(await AuditLog.list(ctx.db, p.institutionId, readQuery(req, auditQuerySchema))), "audit.read"),
  ];
}
