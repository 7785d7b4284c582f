import type { WireError } from "../errors.ts";
import { RequestError } from "./requests.ts";

/** The tokens a session runs on. */
export interface Tokens {
  accessToken: string;
  refreshToken?: string;
}

/** Logs in over REST and returns the tokens (and user) for a CoachClient. */
export async function login(url: string, email: string, password: string) {
  const res = await fetch(new URL("/api/auth/login", url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { ok: boolean; error?: WireError; accessToken: string; refreshToken: string; user: { id: string; role: string } };
  if (!body.ok) throw new RequestError(body.error!);
  return body;
}

/** Renews tokens; resolving undefined means the session is over. */
export type Refresh = () => Promise<Tokens | undefined>;

/**
 * Holds the session's tokens (the handshake reads the access token each time it connects) and
 * renews them when the server says the access token expired: through the app's `refresh` when
 * it gave one (a browser, whose refresh token is an HttpOnly cookie), else with
 * POST /api/auth/refresh and the refresh token.
 */
export class TokenKeeper {
  constructor(
    private tokens: Tokens,
    private readonly url: string,
    private readonly refresher: Refresh | undefined,
  ) {}

  /** The access token the next handshake sends. */
  get accessToken(): string {
    return this.tokens.accessToken;
  }

  /** Uses tokens renewed elsewhere from now on. */
  set(tokens: Tokens): void {
    this.tokens = tokens;
  }

  /** Renews the tokens; false when they cannot be renewed (no refresh token, refused, unreachable). */
  async refresh(): Promise<boolean> {
    if (this.refresher) {
      const tokens = await this.refresher().catch(() => undefined);
      if (tokens) this.tokens = tokens;
      return tokens !== undefined;
    }
    if (!this.tokens.refreshToken) return false;
    try {
      const res = await fetch(new URL("/api/auth/refresh", this.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refreshToken: this.tokens.refreshToken }),
      });
      const body = (await res.json()) as { ok: boolean; accessToken: string; refreshToken: string };
      if (!body.ok) return false;
      this.tokens = { accessToken: body.accessToken, refreshToken: body.refreshToken };
      return true;
    } catch {
      return false;
    }
  }
}
