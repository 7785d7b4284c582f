import { CoachwireError } from "../../protocol/errors.ts";
import { loginSchema, refreshSchema } from "../../protocol/schemas.ts";
import type { AuthService, ClientInfo } from "../auth/auth-service.ts";
import type { RateLimiter } from "../ratelimit/rate-limiter.ts";
import { bearerToken, readJson, type HttpRequest, type Route } from "./route.ts";

/** What the auth routes need. */
export interface AuthRoutesContext {
  auth: AuthService;
  /** Keyed by client IP; guards login and refresh against guessing. */
  loginLimiter: RateLimiter;
  /** Sources exempt from the limit (COACHWIRE_TRUSTED_CIDRS). */
  isTrusted(ip: string): boolean;
}

/** Charges the client IP's login budget (login, refresh, sign-up): RATE_LIMITED past it. */
export async function limitByIp(ctx: Pick<AuthRoutesContext, "loginLimiter" | "isTrusted">, req: HttpRequest): Promise<void> {
  if (ctx.isTrusted(req.ip)) return;
  const decision = await ctx.loginLimiter.consume(`login:${req.ip}`);
  if (!decision.allowed) {
    throw new CoachwireError("RATE_LIMITED", `Too many attempts; retry in ${Math.ceil(decision.retryAfterMs / 1000)} s`);
  }
}

/** Where a request came from, as a session records it. */
export function clientInfo(req: HttpRequest): ClientInfo {
  return { userAgent: req.headers["user-agent"] ?? "", ip: req.ip };
}

/** POST /api/auth/login, /refresh and /logout. */
export function authRoutes(ctx: AuthRoutesContext): Route[] {
  return [
    {
      method: "POST",
      path: "/api/auth/login",
      async handle(req) {
        await limitByIp(ctx, req);
        const { email, password } = readJson(req, loginSchema);
        return { status: 200, body: { ok: true, ...(await ctx.auth.login(email, password, clientInfo(req))) } };
      },
    },
    {
      method: "POST",
      path: "/api/auth/refresh",
      async handle(req) {
        await limitByIp(ctx, req);
        const { refreshToken } = readJson(req, refreshSchema);
        return { status: 200, body: { ok: true, ...(await ctx.auth.refresh(refreshToken, clientInfo(req))) } };
      },
    },
    {
      method: "POST",
      path: "/api/auth/logout",
      async handle(req) {
        const principal = await ctx.auth.verify(bearerToken(req));
        const body = req.body.length > 0 ? readJson(req, refreshSchema.partial()) : {};
        await ctx.auth.logout(principal, body.refreshToken);
        return { status: 200, body: { ok: true } };
      },
    },
  ];
}
