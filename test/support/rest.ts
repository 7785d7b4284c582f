import assert from "node:assert/strict";
import type { ErrorCode } from "../../protocol/errors.ts";
import { restClient as tokenClient, type Json } from "./accounts-api.ts";
import type { TestUser } from "./fixtures.ts";
import type { TestServer } from "./server.ts";

export type { Json } from "./accounts-api.ts";

/** Who makes a request: a test user (a token is signed for them), a raw access token, or nobody. */
export type Caller = TestUser | { token: string } | null;

/**
 * The accounts REST helpers (support/accounts-api.ts) for callers given as test users: `call`
 * answers anything, `ok` must succeed, `refused` must fail with a code (and answers the whole body).
 */
export function restClient(server: () => TestServer) {
  const api = tokenClient(() => server().url);
  const tokenFor = async (as: Caller) => (as === null ? null : "token" in as ? as.token : await server().tokenFor(as));
  const call = async (as: Caller, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    api.call(await tokenFor(as), method, path, body, headers);
  async function ok(as: Caller, method: string, path: string, body?: unknown, status = 200, headers: Record<string, string> = {}): Promise<Json> {
    const res = await call(as, method, path, body, headers);
    assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
    assert.equal(res.body.ok, true);
    return res.body;
  }
  async function refused(as: Caller, method: string, path: string, body: unknown, code: ErrorCode, headers: Record<string, string> = {}): Promise<Json> {
    return { ok: false, error: await api.refused(await tokenFor(as), method, path, body, code, headers) };
  }
  return { call, ok, refused };
}
