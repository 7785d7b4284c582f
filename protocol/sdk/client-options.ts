import type { WireFormat } from "../parser.ts";
import type { Refresh, Tokens } from "./tokens.ts";

export interface CoachClientOptions {
  /** Base URL of the server or load balancer, e.g. http://127.0.0.1:8080. */
  url: string;
  tokens: Tokens;
  /** Must match the server's COACHWIRE_PARSER. */
  parser?: WireFormat;
  /** How long one attempt of a request waits for its ack. */
  ackTimeoutMs?: number;
  /** How long a send keeps retrying before it fails. */
  sendDeadlineMs?: number;
  /** How long a seq gap may stay open before the SDK asks for it. */
  gapWaitMs?: number;
  /**
   * How far to spread a reconnect after a server's `retryAfterMs` that came without
   * `retryWindowMs` (the server normally sends both; other reconnects use full-jitter backoff).
   */
  reconnectJitterMs?: number;
  /**
   * Renews the tokens when the access token expired. Default: POST /api/auth/refresh with
   * `tokens.refreshToken` in the body. A browser passes its own (the refresh token lives in an
   * HttpOnly cookie there); resolving undefined means the session is over.
   */
  refresh?: Refresh;
}

/** The options with every default filled in (tokens and refresh go to the TokenKeeper). */
export type ResolvedClientOptions = Required<Omit<CoachClientOptions, "tokens" | "refresh">>;

/** Fills in the defaults. */
export function resolveClientOptions(options: CoachClientOptions): ResolvedClientOptions {
  return {
    url: options.url,
    parser: options.parser ?? "msgpack",
    ackTimeoutMs: options.ackTimeoutMs ?? 5000,
    sendDeadlineMs: options.sendDeadlineMs ?? 60_000,
    gapWaitMs: options.gapWaitMs ?? 100,
    reconnectJitterMs: options.reconnectJitterMs ?? 1000,
  };
}
