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
}

/** A thrown error that carries a catalog code; handlers turn it into a {@link WireError}. */
export class CoachwireError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly status: number;

  constructor(code: ErrorCode, message?: string) {
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
  }

  toWire(): WireError {
    return { code: this.code, message: this.message, retryable: this.retryable };
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
