/**
 * The token of a mailed link (`/invite#token=…`, `/reset-password#token=…`). It travels in the
 * fragment, which the browser never sends to a server or puts in a Referer.
 */
export function linkToken(hash = location.hash): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, "")).get("token");
  return token && /^[A-Za-z0-9_-]{16,256}$/.test(token) ? token : null;
}
