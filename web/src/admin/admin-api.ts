import { RequestError } from "../../../protocol/client.ts";
import { errorText } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import type { Paged } from "./admin-types.ts";

/** `/api/admin/<path>?query` with the empty filters left out (the routes refuse unknown or empty keys). */
export function adminPath(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  const qs = params.toString();
  return `/api/admin/${path}${qs ? `?${qs}` : ""}`;
}

/** One page of a cursor-paged admin list. */
export const adminPage = <T>(path: string, query: Record<string, string | number | undefined | null>, cursor: string | null) =>
  api<Paged<T>>("GET", adminPath(path, { ...query, cursor }));

/** The one human message for whatever a request threw. */
export const failureText = (err: unknown) => (err instanceof RequestError ? errorText(err.error.code) : errorText("INTERNAL"));
