import { signal } from "@preact/signals";

/** The current path; links and navigate() change it without a reload (the server answers every route with the app). */
export const path = signal(location.pathname);

export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  path.value = location.pathname;
  scrollTo(0, 0);
}

addEventListener("popstate", () => (path.value = location.pathname));

/** The `:name` values when `current` fits `pattern` (e.g. /rooms/:roomId), else undefined. */
export function match(pattern: string, current: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const got = current.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, seg] of want.entries()) {
    const value = got[i]!;
    if (seg.startsWith(":")) {
      if (!value) return undefined;
      try {
        params[seg.slice(1)] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (seg !== value) return undefined;
  }
  return params;
}
