import assert from "node:assert/strict";
import { ERROR_CATALOG, type ErrorCode } from "../../protocol/errors.ts";
import type { TestUser } from "./fixtures.ts";
import type { TestServer } from "./server.ts";

/** A response body read as JSON, checked field by field. */
export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Who makes a request: a test user (a token is signed for them), a raw access token, or nobody. */
export type Caller = TestUser | { token: string } | null;

/** Small REST helpers over one test server: `call` answers anything, `ok` must succeed, `refused` must fail with a code. */
export function restClient(server: () => TestServer) {
  async function call(as: Caller, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; text: string }> {
    const h: Record<string, string> = { "content-type": "application/json", ...headers };
    if (as) h["authorization"] = `Bearer ${"token" in as ? as.token : await server().tokenFor(as)}`;
    const res = await fetch(`${server().url}${path}`, { method, headers: h, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    let json: Json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, body: json, text };
  }
  async function ok(as: Caller, method: string, path: string, body?: unknown, status = 200, headers?: Record<string, string>): Promise<Json> {
    const res = await call(as, method, path, body, headers);
    assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
    assert.equal(res.body.ok, true);
    return res.body;
  }
  async function refused(as: Caller, method: string, path: string, body: unknown, code: ErrorCode, headers?: Record<string, string>): Promise<Json> {
    const res = await call(as, method, path, body, headers);
    assert.equal(res.body?.error?.code, code, `${method} ${path}: ${res.text}`);
    assert.equal(res.status, ERROR_CATALOG[code].status);
    assert.equal(res.body.error.retryable, ERROR_CATALOG[code].retryable);
    return res.body;
  }
  return { call, ok, refused };
}
