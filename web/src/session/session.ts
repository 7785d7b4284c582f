import { signal } from "@preact/signals";
import { RequestError, type Tokens } from "../../../protocol/client.ts";
import type { WireError } from "../../../protocol/errors.ts";

/**
 * The signed-in user and their tokens. The access token lives in this module's memory only;
 * the refresh token lives in an HttpOnly, SameSite=Strict cookie scoped to /api/auth that no
 * script can read (cookie mode: the X-Coachwire-Session header). A reload signs in again
 * through that cookie; logout clears both.
 */

export type Role = "student" | "coach" | "admin" | "parent";

export interface User {
  id: string;
  email: string;
  displayName: string;
  role: Role;
}

interface PairBody {
  ok: boolean;
  error?: WireError;
  accessToken: string;
  accessExpiresAt: number;
  user: User;
}

/** Who is signed in (null: nobody). */
export const currentUser = signal<User | null>(null);
/** Why the last session ended, shown on the sign-in screen (a catalog code or "signed-out"). */
export const endReason = signal<string | null>(null);

const SESSION_HEADERS = { "content-type": "application/json", "x-coachwire-session": "cookie" };
let accessToken: string | undefined;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<Tokens | undefined> | undefined;
const endListeners = new Set<() => void>();
const tokenListeners = new Set<(tokens: Tokens) => void>();

/** The current access token, for the SDK's handshake and REST calls. */
export function bearer(): string | undefined {
  return accessToken;
}

/** Runs with every renewed access token (the SDK uses it for its next handshake). */
export function onTokens(listener: (tokens: Tokens) => void): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

/** Runs when the session ends for any reason (the store closes the socket). */
export function onSessionEnd(listener: () => void): () => void {
  endListeners.add(listener);
  return () => endListeners.delete(listener);
}

const AUTHORIZED = new Set(["/api/auth/logout", "/api/me/password"]);

async function post(path: string, body?: unknown): Promise<PairBody> {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: accessToken && AUTHORIZED.has(path) ? { ...SESSION_HEADERS, authorization: `Bearer ${accessToken}` } : SESSION_HEADERS,
    body: body === undefined ? "" : JSON.stringify(body),
  });
  return (await res.json()) as PairBody;
}

function accept(body: PairBody): Tokens {
  accessToken = body.accessToken;
  currentUser.value = body.user;
  endReason.value = null;
  clearTimeout(refreshTimer);
  // Renew a minute before expiry (or at 80% of a short lifetime), so no request meets an expired token.
  const lifetime = body.accessExpiresAt - Date.now();
  refreshTimer = setTimeout(() => void refresh(), Math.max(5_000, Math.min(lifetime - 60_000, lifetime * 0.8)));
  const tokens = { accessToken: body.accessToken };
  for (const listener of tokenListeners) listener(tokens);
  return tokens;
}

/** Signs in with email and password; throws RequestError (e.g. INVALID_CREDENTIALS). */
export async function signIn(email: string, password: string): Promise<void> {
  const body = await post("/api/auth/login", { email, password });
  if (!body.ok) throw new RequestError(body.error!);
  accept(body);
}

/**
 * Starts a session from a route that answers a token pair besides login: accepting an invite
 * or a sign-up link, a parent's sign-up, a password reset or change. In cookie mode the server
 * sets the refresh cookie, so the session lives exactly like one begun at sign-in. Answers the
 * route's body (e.g. the `roomId` a sign-up joined); throws RequestError on a refusal.
 */
export async function startSession<T extends object = object>(
  path: "/api/invites/accept" | "/api/parent/signup" | "/api/auth/password-reset/confirm" | "/api/me/password",
  body: unknown,
): Promise<T> {
  let answer: PairBody;
  try {
    answer = await post(path, body);
  } catch {
    throw new RequestError({ code: "UNAVAILABLE", message: "offline", retryable: true });
  }
  if (!answer.ok) throw new RequestError(answer.error!);
  accept(answer);
  return answer as unknown as T;
}

/**
 * Trades the cookie for a new access token. One refresh at a time in this tab, and one across
 * tabs (Web Locks): the refresh token rotates, and two tabs spending the same one at once
 * would look like token theft and end the session.
 */
export function refresh(): Promise<Tokens | undefined> {
  refreshing ??= (async () => {
    const run = async () => {
      try {
        const body = await post("/api/auth/refresh");
        if (body.ok) return accept(body);
        end(body.error?.code ?? "TOKEN_INVALID");
      } catch {
        // Offline: keep the session; the next attempt (reconnect, next request) tries again.
        return undefined;
      }
      return undefined;
    };
    return navigator.locks ? navigator.locks.request("coachwire-refresh", run) : run();
  })().finally(() => (refreshing = undefined));
  return refreshing;
}

/** On start-up: signs in again from the cookie if a session is there. */
export async function resume(): Promise<boolean> {
  const tokens = await refresh();
  if (!tokens) endReason.value = null; // no session yet is not an error to show
  return tokens !== undefined;
}

/** Ends the session here: memory cleared, listeners told; `reason` is shown on sign-in. */
export function end(reason: string | null): void {
  clearTimeout(refreshTimer);
  accessToken = undefined;
  if (currentUser.value === null && reason === null) return;
  currentUser.value = null;
  endReason.value = reason;
  for (const listener of endListeners) listener();
}

/** Signs out: the server revokes the token and the cookie's family and clears the cookie. */
export async function signOut(): Promise<void> {
  try {
    await post("/api/auth/logout");
  } catch {
    // Unreachable server: memory is cleared anyway; the cookie's family expires on its own.
  }
  end("signed-out");
}
