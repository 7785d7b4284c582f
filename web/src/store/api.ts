import { RequestError } from "../../../protocol/client.ts";
import type { WireError } from "../../../protocol/errors.ts";
import { bearer, end, refresh } from "../session/session.ts";

/**
 * REST reads and writes with the in-memory access token. An expired token is refreshed once
 * and the request repeated; a revoked one ends the session. Failures throw RequestError with
 * the catalog error, so screens show the catalog's message for its code.
 */
export async function api<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const headers: Record<string, string> = {};
    const token = bearer();
    if (token) headers["authorization"] = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new RequestError({ code: "UNAVAILABLE", message: "offline", retryable: true });
    }
    const json = (await res.json().catch(() => ({ ok: false, error: { code: "INTERNAL", message: "", retryable: true } }))) as {
      ok: boolean;
      error?: WireError;
    } & T;
    if (json.ok) return json;
    const error = json.error!;
    if (error.code === "TOKEN_EXPIRED" && attempt === 0 && (await refresh())) continue;
    if (error.code === "TOKEN_REVOKED" || error.code === "TOKEN_INVALID" || (error.code === "TOKEN_EXPIRED" && attempt > 0)) end(error.code);
    throw new RequestError(error);
  }
}

/** A file the route answers (e.g. GET /api/me/export), with the same token handling as api(). */
export async function download(path: string): Promise<Blob> {
  for (let attempt = 0; ; attempt++) {
    const token = bearer();
    let res: Response;
    try {
      res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    } catch {
      throw new RequestError({ code: "UNAVAILABLE", message: "offline", retryable: true });
    }
    if (res.ok) return res.blob();
    const error = ((await res.json().catch(() => null)) as { error?: WireError } | null)?.error ?? { code: "INTERNAL", message: "", retryable: true };
    if (error.code === "TOKEN_EXPIRED" && attempt === 0 && (await refresh())) continue;
    if (error.code === "TOKEN_REVOKED" || error.code === "TOKEN_INVALID") end(error.code);
    throw new RequestError(error);
  }
}
