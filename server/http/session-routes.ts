import { z } from "zod";
import type { SessionList } from "../accounts/session-list.ts";
import { authenticatedRoutes, ok, type AuthenticatedContext } from "./authenticated.ts";
import { readParams, type Route } from "./route.ts";

export interface SessionRoutesContext extends AuthenticatedContext {
  sessions: SessionList;
}

const sessionPath = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be a session id") });

/** The caller's login sessions: list them, end one, end all. */
export function sessionRoutes(ctx: SessionRoutesContext): Route[] {
  const route = authenticatedRoutes(ctx);
  return [
    route("GET", "/api/me/sessions", async (_req, p) => ok({ items: await ctx.sessions.list(p.userId, p.familyId) })),
    route("DELETE", "/api/me/sessions/:id", async (req, p) => {
      await ctx.sessions.revoke(p.userId, readParams(req, sessionPath).id);
      return ok();
    }),
    route("DELETE", "/api/me/sessions", async (_req, p) => ok({ revoked: await ctx.sessions.revokeAll(p.userId) })),
  ];
}
