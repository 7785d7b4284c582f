import { CoachwireError } from "../../protocol/errors.ts";
import type { AuthService, Principal } from "../auth/auth-service.ts";
import type { RateLimiter } from "../ratelimit/rate-limiter.ts";
import { bearerToken, type HttpReply, type HttpRequest, type Route } from "./route.ts";
import { waitHint } from "../ratelimit/rate-limiter.ts";

/** What an authenticated route needs: the token check and the per-user budget the socket events share. */
export interface AuthenticatedContext {
  auth: AuthService;
  /** Keyed by user id, the same limiter as socket request events. */
  userLimiter: RateLimiter;
  isTrusted(ip: string): boolean;
}

/**
 * Wraps a route handler: the bearer token must be valid (else a 401 catalog error), and the
 * caller's per-user request budget is charged, as for socket events (else RATE_LIMITED).
 */
export function authenticated(
  ctx: AuthenticatedContext,
  handler: (req: HttpRequest, principal: Principal) => Promise<HttpReply>,
): (req: HttpRequest) => Promise<HttpReply> {
  return async (req) => {
    const principal = await ctx.auth.verify(bearerToken(req));
    if (!ctx.isTrusted(req.ip)) {
      const decision = await ctx.userLimiter.consume(principal.userId);
      if (!decision.allowed) throw new CoachwireError("RATE_LIMITED", `Too many requests; retry in ${decision.retryAfterMs} ms`, waitHint(decision.retryAfterMs));
    }
    return handler(req, principal);
  };
}

/** A 200 (or `status`) reply with `{ok: true, ...body}`. */
export function ok(body: object = {}, status = 200): HttpReply {
  return { status, body: { ok: true, ...body } };
}

/** Makes routes whose handlers get the verified principal (see {@link authenticated}). */
export function authenticatedRoutes(ctx: AuthenticatedContext) {
  return (method: Route["method"], path: string, handler: (req: HttpRequest, principal: Principal) => Promise<HttpReply>): Route => ({
    method,
    path,
    handle: authenticated(ctx, handler),
  });
}
