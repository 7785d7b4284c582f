import { CoachwireError } from "../../protocol/errors.ts";
import { loginSchema, refreshSchema } from "../../protocol/schemas.ts";
import type { AuthService } from "../auth/auth-service.ts";
import type { LoginGuard } from "../ratelimit/login-guard.ts";
import type { RateLimiter } from "../ratelimit/rate-limiter.ts";
import { bearerToken, readJson, type HttpRequest, type Route } from "./route.ts";

/** What the auth routes need. */
export interface AuthRoutesContext {
  auth: AuthService;
  /** Keyed by client IP; guards login and refresh against guessing. */
  loginLimiter: RateLimiter;
  /** Failed logins per account (and per account and IP), charged only for wrong passwords. */
  loginGuard: LoginGuard;
  /** Sources exempt from the limit (COACHWIRE_TRUSTED_CIDRS). */
  isTrusted(ip: string): boolean;
}

async function limitByIp(ctx: AuthRoutesContext, req: HttpRequest): Promise<void> {
  if (ctx.isTrusted(req.ip)) return;
  const decision = await ctx.loginLimiter.consume(`login:${req.ip}`);
  if (!decision.allowed) {
    throw new CoachwireError("RATE_LIMITED", `Too many attempts; retry in ${Math.ceil(decision.retryAfterMs / 1000)} s`);
  }
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
        const login = () => ctx.auth.login(email, password);
        const pair = ctx.isTrusted(req.ip) ? await login() : await ctx.loginGuard.attempt(email, req.ip, login);
        return { status: 200, body: { ok: true, ...pair } };
      },
    },
    {
      method: "POST",
      path: "/api/auth/refresh",
      async handle(req) {
        await limitByIp(ctx, req);
        const { refreshToken } = readJson(req, refreshSchema);
        return { status: 200, body: { ok: true, ...(await ctx.auth.refresh(refreshToken)) } };
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
