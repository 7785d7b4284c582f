/**
 * The one catalog of error codes. Every error that crosses the wire (socket ack or HTTP body)
 * is `{ code, message, retryable }` with a code from this table; `status` is the HTTP status
 * the same code maps to on REST routes.
 */
export const ERROR_CATALOG = {
  BAD_REQUEST: { status: 400, retryable: false, message: "The request is malformed" },
  VALIDATION_FAILED: { status: 400, retryable: false, message: "The payload does not match the schema" },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, message: "The payload is larger than allowed" },
  UNAUTHENTICATED: { status: 401, retryable: false, message: "An access token is required" },
  INVALID_CREDENTIALS: { status: 401, retryable: false, message: "Email or password is wrong" },
  TOKEN_INVALID: { status: 401, retryable: false, message: "The token is not valid" },
  TOKEN_EXPIRED: { status: 401, retryable: true, message: "The access token has expired; refresh it" },
  TOKEN_REVOKED: { status: 401, retryable: false, message: "The token has been revoked" },
  ACCOUNT_DEACTIVATED: { status: 403, retryable: false, message: "This account has been deactivated; ask your institution's admin" },
  WEAK_PASSWORD: { status: 400, retryable: false, message: "The password is too weak" },
  LINK_INVALID: { status: 400, retryable: false, message: "This link is not valid: it is unknown, already used or expired" },
  EMAIL_TAKEN: { status: 409, retryable: false, message: "This email already has an account" },
  CSV_INVALID: { status: 400, retryable: false, message: "The CSV file cannot be imported" },
  FORBIDDEN: { status: 403, retryable: false, message: "You are not allowed to do this" },
  NOT_A_MEMBER: { status: 403, retryable: false, message: "You are not a member of this room" },
  ROOM_NOT_FOUND: { status: 404, retryable: false, message: "No such room" },
  NOT_FOUND: { status: 404, retryable: false, message: "No such resource" },
  MUTED: { status: 403, retryable: false, message: "You are muted in this room" },
  NOT_ASSIGNED: { status: 403, retryable: false, message: "This task is not assigned to you" },
  TASK_NOT_FOUND: { status: 404, retryable: false, message: "No such task" },
  TASK_CANCELLED: { status: 409, retryable: false, message: "The task has been cancelled" },
  COUNT_OUT_OF_RANGE: { status: 400, retryable: false, message: "The count is outside the task's target" },
  SEQ_OUT_OF_RANGE: { status: 400, retryable: false, message: "The seq is beyond the room's last event" },
  JOIN_CODE_INVALID: { status: 404, retryable: false, message: "No such join code" },
  JOIN_CODE_EXPIRED: { status: 410, retryable: false, message: "The join code has expired" },
  TERMS_VERSION_MISMATCH: { status: 409, retryable: false, message: "That is not the terms version in force" },
  GUARDIAN_LIMIT: { status: 409, retryable: false, message: "The student already has two parents" },
  ROOM_FULL: { status: 409, retryable: false, message: "A 1:1 room takes no other members" },
  CONFLICT: { status: 409, retryable: false, message: "The request conflicts with the current state" },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false, message: "Method not allowed on this resource" },
  RATE_LIMITED: { status: 429, retryable: true, message: "Too many requests; slow down" },
  QUOTA_EXCEEDED: { status: 429, retryable: true, message: "You have made as many of these as allowed for now" },
  TOO_MANY_CONNECTIONS: { status: 429, retryable: false, message: "This user has as many connections open as allowed; close one first" },
  UNAVAILABLE: { status: 503, retryable: true, message: "The server is not accepting this right now" },
  // Not retryable: the server did not understand what went wrong, so the same request would fail
  // again. Failures a retry may outlive (a lost database connection) are UNAVAILABLE.
  INTERNAL: { status: 500, retryable: false, message: "Internal error" },
} as const satisfies Record<string, { status: number; retryable: boolean; message: string }>;

/** A code from the catalog. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** The shape of every error on the wire. */
export interface WireError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  /**
   * On a retryable error: try again no sooner than this many ms from now (the retry hint; see
   * {@link RetryHint}). Absent: the client's own backoff applies.
   */
  retryAfterMs?: number;
  /** With `retryAfterMs`: spread the retry uniformly over this many ms after it (jitter sized by the server's load). */
  retryWindowMs?: number;
}

/**
 * When to try again, as the server sees it: no sooner than `afterMs`, at a moment drawn uniformly
 * from [afterMs, afterMs + windowMs]. The window is sized by the server's current load so that the
 * clients it refuses (or moves) come back spread out instead of all at once.
 */
export interface RetryHint {
  afterMs: number;
  windowMs: number;
}

/**
 * The retry hint a retryable code carries when the place that refused knows no better (a rate
 * limit knows its own wait, admission control sizes its window by its load): every retryable
 * refusal on the wire says when to come back.
 */
export const DEFAULT_RETRY_HINTS: Readonly<Partial<Record<ErrorCode, RetryHint>>> = {
  // Refresh the token, then at once (a little jitter so a class's tokens do not all renew together).
  TOKEN_EXPIRED: { afterMs: 0, windowMs: 250 },
  RATE_LIMITED: { afterMs: 1000, windowMs: 1000 },
  QUOTA_EXCEEDED: { afterMs: 60_000, windowMs: 60_000 },
  UNAVAILABLE: { afterMs: 250, windowMs: 1000 },
};

/** A thrown error that carries a catalog code; handlers turn it into a {@link WireError}. */
export class CoachwireError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly status: number;
  /** When to try again (retryable codes only): given by the refusing code, else the code's default. */
  readonly retry: RetryHint | undefined;

  constructor(code: ErrorCode, message?: string, retry?: RetryHint) {
    const entry = ERROR_CATALOG[code];
    // A catalog error is an answer, not a bug: no stack trace to capture (it is most of the cost
    // of a refusal, and floods are refused by the thousand).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message ?? entry.message);
    Error.stackTraceLimit = limit;
    this.name = "CoachwireError";
    this.code = code;
    this.retryable = entry.retryable;
    this.status = entry.status;
    this.retry = entry.retryable ? (retry ?? DEFAULT_RETRY_HINTS[code]) : undefined;
  }

  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.retry) {
      wire.retryAfterMs = Math.max(0, Math.round(this.retry.afterMs));
      wire.retryWindowMs = Math.max(0, Math.round(this.retry.windowMs));
    }
    return wire;
  }
}

/** Maps anything thrown to a wire error; unknown errors become INTERNAL without leaking details. */
export function toWireError(err: unknown): WireError {
  if (err instanceof CoachwireError) return err.toWire();
  return new CoachwireError("INTERNAL").toWire();
}

/** True when the value is a catalog code (used by the SDK on untrusted input). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CATALOG, value);
}
