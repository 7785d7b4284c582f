import type { z } from "zod";
import { CoachwireError, toWireError } from "../../protocol/errors.ts";

/** A request as every route sees it, whichever HTTP transport (uWS or node:http) received it. */
export interface HttpRequest {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The peer address (or the first X-Forwarded-For hop when proxies are trusted). */
  ip: string;
  body: Buffer;
}

export interface HttpReply {
  status: number;
  /** Serialised as JSON unless it is already a string. */
  body: unknown;
  contentType?: string;
}

export interface Route {
  method: "GET" | "POST";
  path: string;
  handle(req: HttpRequest): Promise<HttpReply>;
}

/** Largest request body any route accepts. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Finds the route and runs it; every failure becomes a catalog error body with its status. */
export async function dispatch(routes: readonly Route[], req: HttpRequest): Promise<HttpReply> {
  const forPath = routes.filter((r) => r.path === req.path);
  const route = forPath.find((r) => r.method === req.method);
  try {
    if (!route) throw new CoachwireError(forPath.length > 0 ? "METHOD_NOT_ALLOWED" : "NOT_FOUND");
    return await route.handle(req);
  } catch (err) {
    return errorReply(err);
  }
}

/** The reply for anything thrown: a catalog error body with the code's HTTP status. */
export function errorReply(err: unknown): HttpReply {
  const status = err instanceof CoachwireError ? err.status : 500;
  return { status, body: { ok: false, error: toWireError(err) } };
}

/** Parses and validates a JSON body; a bad body is a coded error, never a crash. */
export function readJson<S extends z.ZodType>(req: HttpRequest, schema: S): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(req.body.toString("utf8"));
  } catch {
    throw new CoachwireError("BAD_REQUEST", "The body is not valid JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CoachwireError("VALIDATION_FAILED", describeIssues(parsed.error));
  return parsed.data;
}

/** A short, human-readable summary of schema problems, e.g. `roomId: must be…`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "payload"}: ${i.message}`)
    .join("; ");
}

/** The bearer token from an Authorization header, if any. */
export function bearerToken(req: HttpRequest): string | undefined {
  const match = /^bearer\s+(\S+)\s*$/i.exec(req.headers["authorization"] ?? "");
  return match?.[1];
}

/** The client address: the first X-Forwarded-For hop when the proxy in front is trusted. */
export function clientIp(remote: string, headers: Record<string, string>, trustProxy: boolean): string {
  const forwarded = trustProxy ? headers["x-forwarded-for"]?.split(",")[0]?.trim() : undefined;
  return forwarded || remote;
}
