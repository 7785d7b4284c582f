import type { ComponentChildren } from "preact";
import { useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";

interface Props<T> {
  items: readonly T[];
  keyOf(item: T): string;
  render(item: T): ComponentChildren;
  /** Height assumed for an item not measured yet (px). */
  estimate: number;
  /** Called when the user scrolls near the top (load older items). */
  onNearTop?(): void;
  label: string;
}

const OVERSCAN_PX = 600;
const BOTTOM_SLACK_PX = 48;

/**
 * A scrolling list that renders only the items near the viewport, so a room with thousands of
 * events scrolls smoothly. Items have any height (measured as they render). It follows the
 * bottom while the reader is there (new messages), keeps the visible item in place when older
 * items are put on top, and asks for more near the top.
 */
export function VirtualList<T>(props: Props<T>) {
  const scroller = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [tick, setTick] = useState(0);
  const [resized, setResized] = useState(0);
  const [view, setView] = useState({ top: 0, height: 600 });
  const keys = useMemo(() => props.items.map(props.keyOf), [props.items]);
  const offsets = useMemo(() => {
    const out = new Array<number>(keys.length + 1);
    out[0] = 0;
    for (let i = 0; i < keys.length; i++) out[i + 1] = out[i]! + (heights.current.get(keys[i]!) ?? props.estimate);
    return out;
  }, [keys, props.estimate, tick]);
  const total = offsets[keys.length]!;

  // Before each render that changes the items: where the reader is, to restore it after.
  const anchor = useRef<{ firstKey: string | undefined; atBottom: boolean; key: string | undefined; delta: number }>({
    firstKey: undefined,
    atBottom: true,
    key: undefined,
    delta: 0,
  });

  // The first item whose bottom is past y (binary search over the prefix offsets).
  const indexAt = (y: number) => {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid + 1]! < y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const start = indexAt(view.top - OVERSCAN_PX);
  const end = Math.min(keys.length, indexAt(view.top + view.height + OVERSCAN_PX) + 1);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const a = anchor.current;
    if (a.atBottom) {
      el.scrollTop = el.scrollHeight;
    } else if (a.firstKey !== keys[0] && a.key !== undefined) {
      const index = keys.indexOf(a.key);
      if (index >= 0) el.scrollTop = offsets[index]! + a.delta;
    }
    a.firstKey = keys[0];
  }, [keys]);

  const remember = () => {
    const el = scroller.current;
    if (!el) return;
    const a = anchor.current;
    a.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
    const i = Math.min(keys.length - 1, indexAt(el.scrollTop + 0.5));
    a.key = keys[i];
    a.delta = el.scrollTop - (offsets[i] ?? 0);
  };

  const onScroll = () => {
    const el = scroller.current!;
    remember();
    setView({ top: el.scrollTop, height: el.clientHeight });
    if (el.scrollTop < 200) props.onNearTop?.();
  };

  const observer = useMemo(
    () =>
      typeof ResizeObserver === "undefined"
        ? undefined
        : new ResizeObserver((entries) => {
            let changed = false;
            for (const entry of entries) {
              if (entry.target === scroller.current) {
                setResized((n) => n + 1);
                continue;
              }
              const key = (entry.target as HTMLElement).dataset["key"];
              const h = (entry.target as HTMLElement).offsetHeight;
              if (key !== undefined && h > 0 && heights.current.get(key) !== h) {
                heights.current.set(key, h);
                changed = true;
              }
            }
            if (changed) setTick((n) => n + 1);
          }),
    [],
  );
  useLayoutEffect(() => {
    if (scroller.current) observer?.observe(scroller.current);
    return () => observer?.disconnect();
  }, [observer]);
  // After the content or the list's own size changed (not after a plain scroll, which onScroll
  // already recorded): stay at the bottom if the reader was there, and note where the view is.
  // Reading scrollHeight forces a layout, so it must not run on every scroll frame.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (anchor.current.atBottom && el.scrollHeight - el.scrollTop - el.clientHeight > 1) el.scrollTop = el.scrollHeight;
    if (el.scrollTop !== view.top || el.clientHeight !== view.height) setView({ top: el.scrollTop, height: el.clientHeight });
  }, [keys, tick, resized]);

  return (
    <div class="vlist" ref={scroller} onScroll={onScroll} role="log" aria-label={props.label} tabIndex={0}>
      <div class="vlist-space" style={{ height: `${total}px` }}>
        <div class="vlist-window" style={{ transform: `translateY(${offsets[start]}px)` }}>
          {props.items.slice(start, end).map((item, i) => (
            <Measured key={keys[start + i]} id={keys[start + i]!} observer={observer}>
              {props.render(item)}
            </Measured>
          ))}
        </div>
      </div>
    </div>
  );
}

/** One rendered item, observed for its height while it is mounted (and only then). */
function Measured(props: { id: string; observer: ResizeObserver | undefined; children: ComponentChildren }) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !props.observer) return;
    props.observer.observe(el);
    return () => props.observer?.unobserve(el);
  }, [props.observer]);
  return (
    <div ref={ref} data-key={props.id} class="vlist-item">
      {props.children}
    </div>
  );
}
