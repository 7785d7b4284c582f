import { CoachwireError } from "../../protocol/errors.ts";
import type { HttpReply, HttpRequest } from "./route.ts";

/**
 * The browser's refresh token, kept in an HttpOnly cookie so no script on the page can read
 * it. A browser asks for cookie mode with the `X-Coachwire-Session: cookie` header on login,
 * refresh and logout; every other client keeps the JSON body API. The cookie is SameSite=Strict
 * and scoped to /api/auth, and a cookie refresh needs the custom header (a cross-site form or
 * image cannot set one) and, when the browser sends an Origin, the server's own origin.
 */

/** The request header that selects cookie mode. */
export const SESSION_HEADER = "x-coachwire-session";
export const REFRESH_COOKIE = "cw_refresh";
const COOKIE_PATH = "/api/auth";

/** True when the request asked for the refresh token in a cookie instead of the body. */
export function wantsCookie(req: HttpRequest): boolean {
  return req.headers[SESSION_HEADER]?.trim().toLowerCase() === "cookie";
}

/**
 * Refuses a cookie-mode request from another origin. Browsers send Origin on every POST made
 * by fetch; it must name the host the request was sent to.
 */
export function checkSameOrigin(req: HttpRequest): void {
  const origin = req.headers["origin"];
  if (origin === undefined || origin === "") return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new CoachwireError("FORBIDDEN", "Cross-origin session requests are not allowed");
  }
  const forwarded = req.headers["x-forwarded-host"]?.split(",")[0]?.trim();
  if (host !== req.headers["host"] && host !== forwarded) throw new CoachwireError("FORBIDDEN", "Cross-origin session requests are not allowed");
}

/** The refresh token from the request's cookie, if any. */
export function refreshFromCookie(req: HttpRequest): string | undefined {
  for (const part of (req.headers["cookie"] ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === REFRESH_COOKIE) return value.join("=") || undefined;
  }
  return undefined;
}

/** Secure only when the page was loaded over https (as its Origin says): plain-http localhost must still work. */
function secure(req: HttpRequest): string {
  return req.headers["origin"]?.startsWith("https://") || req.headers["x-forwarded-proto"] === "https" ? "; Secure" : "";
}

/** The Set-Cookie header value that stores a refresh token. */
export function setRefreshCookie(req: HttpRequest, token: string, maxAgeS: number): string {
  return `${REFRESH_COOKIE}=${token}; Path=${COOKIE_PATH}; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${secure(req)}`;
}

/** The Set-Cookie header value that removes it. */
export function clearRefreshCookie(req: HttpRequest): string {
  return `${REFRESH_COOKIE}=; Path=${COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Strict${secure(req)}`;
}

/**
 * The answer of a route that signs someone in (login, refresh, invite acceptance, password
 * reset or change, parent sign-up): in cookie mode the refresh token goes to the HttpOnly
 * cookie and out of the body; otherwise the pair is answered as it is.
 */
export function tokenPairReply(req: HttpRequest, pair: { refreshToken: string }, refreshTtlS: number, status = 200): HttpReply {
  if (!wantsCookie(req)) return { status, body: { ok: true, ...pair } };
  const { refreshToken, ...rest } = pair;
  return { status, body: { ok: true, ...rest }, headers: { "set-cookie": setRefreshCookie(req, refreshToken, refreshTtlS) } };
}
