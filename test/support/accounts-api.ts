import assert from "node:assert/strict";
import { ERROR_CATALOG, type ErrorCode } from "../../protocol/errors.ts";

/** A response body: JSON, checked field by field. */
export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Who calls: an access token, or nobody (null). */
export type Caller = string | null;

/** REST calls against one server as a browser makes them (JSON bodies, bearer tokens, coded errors). */
export function restClient(baseUrl: () => string) {
  async function call(as: Caller, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; text: string }> {
    const h: Record<string, string> = { "content-type": "application/json", ...headers };
    if (as) h["authorization"] = `Bearer ${as}`;
    // A Buffer is sent as raw bytes (a CSV file in some charset), a string as is, anything else as JSON.
    const payload: { body?: string | Blob } = body === undefined ? {} : { body: typeof body === "string" ? body : Buffer.isBuffer(body) ? new Blob([new Uint8Array(body)]) : JSON.stringify(body) };
    const res = await fetch(`${baseUrl()}${path}`, { method, headers: h, ...payload });
    const text = await res.text();
    let json: Json = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, body: json, text };
  }
  /** A request that must succeed with `status`; its body. */
  async function ok(as: Caller, method: string, path: string, body?: unknown, status = 200): Promise<Json> {
    const res = await call(as, method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
    assert.equal(res.body.ok, true);
    return res.body;
  }
  /** A request that must be refused with `code`, the catalog's status and retryable flag; the error. */
  async function refused(as: Caller, method: string, path: string, body: unknown, code: ErrorCode, headers: Record<string, string> = {}): Promise<Json> {
    const res = await call(as, method, path, body, headers);
    assert.equal(res.body?.error?.code, code, `${method} ${path}: ${res.text}`);
    assert.equal(res.status, ERROR_CATALOG[code].status, `${method} ${path}: status`);
    assert.equal(res.body.error.retryable, ERROR_CATALOG[code].retryable);
    return res.body.error;
  }
  /** Logs in; the token pair. */
  async function login(email: string, password: string): Promise<Json> {
    return ok(null, "POST", "/api/auth/login", { email, password });
  }
  return { call, ok, refused, login };
}

/** The token in a mailed link (`…#token=<token>`). */
export function tokenOf(link: string): string {
  const match = /#token=([A-Za-z0-9_-]+)$/.exec(link);
  assert.ok(match, `no token in ${link}`);
  return match[1]!;
}
