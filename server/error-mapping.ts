import { CoachwireError } from "../protocol/errors.ts";

/**
 * What a thrown error means to the client, as a catalog error. Catalog errors stay as they are.
 * A database error names its cause in its SQLSTATE: a value the database refuses (class 22:
 * out of range, bad encoding) or a constraint it breaks (23) is the request's fault and cannot
 * succeed on a retry; a lost connection, an overloaded server or a serialization failure (08,
 * 40, 53, 57) may. Anything else is INTERNAL, which is not retryable: a retry of a request the
 * server does not understand would fail the same way.
 */
export function catalogError(err: unknown): CoachwireError {
  if (err instanceof CoachwireError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    if (code.startsWith("22")) return new CoachwireError("VALIDATION_FAILED", "The database refused a value of this request");
    if (code.startsWith("23")) return new CoachwireError("CONFLICT", "The request conflicts with what is stored");
    if (/^(08|40|53|57)/.test(code) || NETWORK_CODES.has(code)) return new CoachwireError("UNAVAILABLE", "The database is not reachable right now; retry");
  }
  if (err instanceof Error && /Connection terminated|timeout exceeded when trying to connect/i.test(err.message)) {
    return new CoachwireError("UNAVAILABLE", "The database is not reachable right now; retry");
  }
  return new CoachwireError("INTERNAL");
}

/** Node's socket errors: the service at the other end went away, which a retry may outlive. */
const NETWORK_CODES: ReadonlySet<string> = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
