import { CoachwireError } from "../../protocol/errors.ts";
import { loginSchema, refreshSchema } from "../../protocol/schemas.ts";
import type { AuthService, ClientInfo } from "../auth/auth-service.ts";
import type { LoginGuard } from "../ratelimit/login-guard.ts";
import type { RateLimiter } from "../ratelimit/rate-limiter.ts";
import { bearerToken, errorReply, readJson, type HttpReply, type HttpRequest, type Route } from "./route.ts";
import { checkSameOrigin, clearRefreshCookie, refreshFromCookie, tokenPairReply, wantsCookie } from "./session-cookie.ts";
import { waitHint } from "../ratelimit/rate-limiter.ts";

/** What the auth routes need. */
export interface AuthRoutesContext {
  auth: AuthService;
  /** Keyed by client IP; guards login and refresh against guessing. */
  loginLimiter: RateLimiter;
  /** Failed logins per account (and per account and IP), charged only for wrong passwords. */
  loginGuard: LoginGuard;
  /** Sources exempt from the limit (COACHWIRE_TRUSTED_CIDRS). */
  isTrusted(ip: string): boolean;
  /** Lifetime of the browser's refresh cookie (COACHWIRE_REFRESH_TOKEN_TTL_S). */
  refreshTtlS: number;
}

/** A token pair answered in cookie mode: the refresh token goes to the HttpOnly cookie, not the body. */
function pairReply(ctx: AuthRoutesContext, req: HttpRequest, pair: { refreshToken: string }): HttpReply {
  return tokenPairReply(req, pair, ctx.refreshTtlS);
}

/** Charges the client IP's login budget (login, refresh, sign-up): RATE_LIMITED past it. */
export async function limitByIp(ctx: Pick<AuthRoutesContext, "loginLimiter" | "isTrusted">, req: HttpRequest): Promise<void> {
  if (ctx.isTrusted(req.ip)) return;
  const decision = await ctx.loginLimiter.consume(`login:${req.ip}`);
  if (!decision.allowed) {
    throw new CoachwireError("RATE_LIMITED", `Too many attempts; retry in ${Math.ceil(decision.retryAfterMs / 1000)} s`, waitHint(decision.retryAfterMs));
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
        if (wantsCookie(req)) checkSameOrigin(req);
        const { email, password } = readJson(req, loginSchema);
        const login = () => ctx.auth.login(email, password, clientInfo(req));
        const pair = ctx.isTrusted(req.ip) ? await login() : await ctx.loginGuard.attempt(email, req.ip, login);
        return pairReply(ctx, req, pair);
      },
    },
    {
      method: "POST",
      path: "/api/auth/refresh",
      async handle(req) {
        await limitByIp(ctx, req);
        if (!wantsCookie(req)) return pairReply(ctx, req, await ctx.auth.refresh(readJson(req, refreshSchema).refreshToken, clientInfo(req)));
        checkSameOrigin(req);
        try {
          const refreshToken = refreshFromCookie(req);
          if (!refreshToken) throw new CoachwireError("UNAUTHENTICATED", "No session cookie; log in");
          return pairReply(ctx, req, await ctx.auth.refresh(refreshToken, clientInfo(req)));
        } catch (err) {
          // A missing, spent, revoked or expired cookie is of no further use: drop it with the error.
          if (!(err instanceof CoachwireError) || err.status !== 401) throw err;
          return { ...errorReply(err), headers: { "set-cookie": clearRefreshCookie(req) } };
        }
      },
    },
    {
      method: "POST",
      path: "/api/auth/logout",
      async handle(req) {
        if (!wantsCookie(req)) {
          const principal = await ctx.auth.verify(bearerToken(req));
          const body = req.body.length > 0 ? readJson(req, refreshSchema.partial()) : {};
          await ctx.auth.logout(principal, body.refreshToken);
          return { status: 200, body: { ok: true } };
        }
        // Cookie mode: the cookie goes whatever else happens, so a failed logout still signs the browser out.
        const clear = { "set-cookie": clearRefreshCookie(req) };
        try {
          checkSameOrigin(req);
          await ctx.auth.logout(await ctx.auth.verify(bearerToken(req)), refreshFromCookie(req));
          return { status: 200, body: { ok: true }, headers: clear };
        } catch (err) {
          return { ...errorReply(err), headers: clear };
        }
      },
    },
  ];
}
