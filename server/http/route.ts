import type { z } from "zod";
import { CoachwireError, toWireError } from "../../protocol/errors.ts";
import { findNul } from "../../protocol/schemas.ts";
import { catalogError } from "../error-mapping.ts";

/** A request as every route sees it, whichever HTTP transport (uWS or node:http) received it. */
export interface HttpRequest {
  method: string;
  path: string;
  /** The query string, parsed. */
  query: URLSearchParams;
  /** Values of the route's `:name` path segments, filled in by {@link dispatch}. */
  params: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The client address: the peer, or behind trusted proxies the X-Forwarded-For hop they vouch for (client-address.ts). */
  ip: string;
  body: Buffer;
}

export interface HttpReply {
  status: number;
  /** Serialised as JSON unless it is already a string or bytes. */
  body: unknown;
  contentType?: string;
  /**
   * When present, the reply is streamed: these chunks are written in order (waiting for the
   * peer when it falls behind) instead of `body`, and the iterator is stopped if the peer goes away.
   */
  stream?: AsyncIterable<string>;
  /** Extra response headers (lower-case names); `cache-control` replaces the default `no-store`. */
  headers?: Record<string, string>;
}

export interface Route {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Literal segments and `:name` segments, e.g. `/api/rooms/:roomId/tasks`. */
  path: string;
  handle(req: HttpRequest): Promise<HttpReply>;
}

/** Largest request body any route accepts. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The `:name` values when `path` fits the route's pattern, else undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const got = path.split("/");
  return want.length === got.length ? matchSegments(want, got) : undefined;
}

/** The route pattern a path matched (for metrics labels that do not grow with ids), or "other". */
export function routeLabel(routes: readonly Route[], path: string): string {
  return routesFor(routes, path)[0]?.route.path ?? "other";
}

/** Routes by segment count, each pattern split once: a request splits its path once and looks only at routes of its length. */
const tables = new WeakMap<readonly Route[], Map<number, Array<{ route: Route; segments: string[] }>>>();

/** The routes whose pattern fits `path`, with their `:name` values, in table order. */
function routesFor(routes: readonly Route[], path: string): Array<{ route: Route; params: Record<string, string> }> {
  let table = tables.get(routes);
  if (!table) {
    table = new Map();
    for (const route of routes) {
      const segments = route.path.split("/");
      const list = table.get(segments.length) ?? [];
      list.push({ route, segments });
      table.set(segments.length, list);
    }
    tables.set(routes, table);
  }
  const got = path.split("/");
  const found: Array<{ route: Route; params: Record<string, string> }> = [];
  for (const { route, segments } of table.get(got.length) ?? []) {
    const params = matchSegments(segments, got);
    if (params) found.push({ route, params });
  }
  return found;
}

function matchSegments(want: string[], got: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, segment] of want.entries()) {
    const value = got[i]!;
    if (segment.startsWith(":")) {
      if (value === "") return undefined;
      try {
        params[segment.slice(1)] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (segment !== value) {
      return undefined;
    }
  }
  return params;
}

/**
 * Finds the route and runs it; every failure becomes a catalog error body with its status.
 * Anything thrown that is not a catalog error (a bug, a database failure) also goes to `onUnexpected`.
 */
export async function dispatch(routes: readonly Route[], req: HttpRequest, onUnexpected?: (err: unknown) => void): Promise<HttpReply> {
  const forPath = routesFor(routes, req.path);
  const found = forPath.find((r) => r.route.method === req.method);
  try {
    if (!found) throw new CoachwireError(forPath.length > 0 ? "METHOD_NOT_ALLOWED" : "NOT_FOUND");
    return await found.route.handle({ ...req, params: found.params });
  } catch (err) {
    if (!(err instanceof CoachwireError)) onUnexpected?.(err);
    return errorReply(err);
  }
}

/** The reply for anything thrown: a catalog error body with the code's HTTP status (see {@link catalogError}). */
export function errorReply(err: unknown): HttpReply {
  const error = catalogError(err);
  const wire = toWireError(error);
  // The hint for HTTP clients that read no body, on 429 and 503: Retry-After, in whole seconds (at least 1).
  const retryAfter = wire.retryAfterMs !== undefined && (error.status === 429 || error.status === 503) ? { headers: { "retry-after": String(Math.max(1, Math.ceil(wire.retryAfterMs / 1000))) } } : {};
  return { status: error.status, body: { ok: false, error: wire }, ...retryAfter };
}

/** Validates the query string against a schema (repeated keys: the last one wins). */
export function readQuery<S extends z.ZodType>(req: HttpRequest, schema: S): z.infer<S> {
  return validated(schema, Object.fromEntries(req.query));
}

/** Validates the route's `:name` path values against a schema. */
export function readParams<S extends z.ZodType>(req: HttpRequest, schema: S): z.infer<S> {
  return validated(schema, req.params);
}

function validated<S extends z.ZodType>(schema: S, value: unknown, nulAllowed = false): z.infer<S> {
  if (!nulAllowed) refuseNul(value);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CoachwireError("VALIDATION_FAILED", describeIssues(parsed.error));
  return parsed.data;
}

/**
 * Parses and validates a JSON body; a bad body is a coded error, never a crash. `fromPath`
 * (ids taken from the URL) is merged over the body before validation; with it, an empty body
 * reads as {} (a route whose URL says it all needs no body).
 */
export function readJson<S extends z.ZodType>(req: HttpRequest, schema: S, fromPath?: Record<string, unknown>): z.infer<S> {
  return validated(schema, parseJson(req, fromPath));
}

/**
 * Like {@link readJson}, without the U+0000 refusal: for a body whose handler refuses U+0000
 * itself with a more specific code (a CSV import's text is CSV_INVALID). Nothing it returns may
 * reach the database unchecked.
 */
export function readJsonCheckedElsewhere<S extends z.ZodType>(req: HttpRequest, schema: S): z.infer<S> {
  return validated(schema, parseJson(req), true);
}

function parseJson(req: HttpRequest, fromPath?: Record<string, unknown>): unknown {
  let value: unknown;
  try {
    value = fromPath && req.body.length === 0 ? {} : JSON.parse(req.body.toString("utf8"));
  } catch {
    throw new CoachwireError("BAD_REQUEST", "The body is not valid JSON");
  }
  if (fromPath) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new CoachwireError("VALIDATION_FAILED", "payload: must be an object");
    value = { ...value, ...fromPath };
  }
  return value;
}

/**
 * Refuses U+0000 anywhere in a decoded payload (any string, any key), before any schema or
 * handler sees it: PostgreSQL text cannot hold it, so it could never be stored or looked up.
 */
export function refuseNul(value: unknown): void {
  const path = findNul(value);
  if (path !== undefined) throw new CoachwireError("VALIDATION_FAILED", `${path}: must not contain U+0000`);
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
