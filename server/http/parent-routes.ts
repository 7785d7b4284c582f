import { z } from "zod";
import { pageQuerySchema } from "../../protocol/coaching-schemas.ts";
import { guardianInviteSchema, guardianLinkSchema, guardianSignupSchema } from "../../protocol/family-schemas.ts";
import { idSchema } from "../../protocol/schemas.ts";
import type { RateLimiter } from "../ratelimit/rate-limiter.ts";
import type { ChildRecords } from "../parents/child-records.ts";
import type { GuardianInvites } from "../parents/guardian-invites.ts";
import { requireParent } from "../parents/guardian-invites.ts";
import type { ParentDigests } from "../parents/parent-digests.ts";
import { clientInfo, limitByIp } from "./auth-routes.ts";
import { authenticatedRoutes, ok, type AuthenticatedContext } from "./authenticated.ts";
import { readJson, readParams, readQuery, type Route } from "./route.ts";
import { checkSameOrigin, tokenPairReply, wantsCookie } from "./session-cookie.ts";

export interface ParentRoutesContext extends AuthenticatedContext {
  invites: GuardianInvites;
  children: ChildRecords;
  digests: ParentDigests;
  /** The login budget per IP, which the sign-up shares. */
  loginLimiter: RateLimiter;
  /** Lifetime of a browser's refresh cookie (a sign-up in cookie mode sets it). */
  refreshTtlS: number;
}

const studentPath = z.strictObject({ studentId: idSchema });

/** Guardian invites, parent sign-up and linking, and what a parent reads of their own children. */
export function parentRoutes(ctx: ParentRoutesContext): Route[] {
  const route = authenticatedRoutes(ctx);
  const { children } = ctx;
  return [
    route("POST", "/api/students/:studentId/guardian-invites", async (req, p) => {
      const { studentId } = readParams(req, studentPath);
      return ok({ invite: await ctx.invites.create(p, studentId, readJson(req, guardianInviteSchema), req.ip) }, 201);
    }),
    {
      method: "POST",
      path: "/api/parent/signup",
      async handle(req) {
        await limitByIp(ctx, req);
        if (wantsCookie(req)) checkSameOrigin(req);
        return tokenPairReply(req, await ctx.invites.signUp(readJson(req, guardianSignupSchema), clientInfo(req)), ctx.refreshTtlS, 201);
      },
    },
    route("POST", "/api/parent/children", async (req, p) => ok(await ctx.invites.link(p, readJson(req, guardianLinkSchema).token))),
    route("GET", "/api/parent/children", async (_req, p) => {
      requireParent(p);
      return ok({ items: await children.children(p.userId) });
    }),
    route("GET", "/api/parent/children/:studentId/tasks", async (req, p) => {
      requireParent(p);
      return ok(await children.tasks(p.userId, readParams(req, studentPath).studentId, readQuery(req, pageQuerySchema)));
    }),
    route("GET", "/api/parent/children/:studentId/summary", async (req, p) => {
      requireParent(p);
      return ok({ summary: await children.summary(p.userId, readParams(req, studentPath).studentId) });
    }),
    route("GET", "/api/parent/children/:studentId/notices", async (req, p) => {
      requireParent(p);
      return ok(await children.notices(p.userId, readParams(req, studentPath).studentId, readQuery(req, pageQuerySchema)));
    }),
    route("GET", "/api/parent/digests", async (req, p) => {
      requireParent(p);
      return ok(await ctx.digests.list(p.userId, readQuery(req, pageQuerySchema)));
    }),
  ];
}
