import { useEffect, useRef, useState } from "preact/hooks";
import { adminPage, failureText } from "./admin-api.ts";

/**
 * A cursor-paged admin list: the first page for the current filters, "load more" appends the
 * next one. A change of filters starts again; an answer for older filters is dropped.
 */
export function usePagedList<T>(path: string, query: Record<string, string | number | undefined | null>) {
  const key = JSON.stringify(query);
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);

  const load = async (from: string | null, replace: boolean) => {
    const mine = ++generation.current;
    setLoading(true);
    setError(null);
    try {
      const page = await adminPage<T>(path, query, from);
      if (mine !== generation.current) return;
      setItems((old) => (replace ? page.items : [...old, ...page.items]));
      setCursor(page.nextCursor);
    } catch (err) {
      if (mine === generation.current) setError(failureText(err));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };
  useEffect(() => {
    void load(null, true);
  }, [path, key]);

  return {
    items,
    setItems,
    loading,
    error,
    hasMore: cursor !== null,
    more: () => void load(cursor, false),
    reload: () => void load(null, true),
  };
}
