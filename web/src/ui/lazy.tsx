import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

/** A screen whose code is fetched on first use (coach screens stay out of the student's bundle). */
export function lazyScreen<P extends object>(load: () => Promise<{ default: ComponentType<P> }>, loading: () => string): ComponentType<P> {
  let loaded: ComponentType<P> | undefined;
  return function LazyScreen(props: P) {
    const [Screen, setScreen] = useState<ComponentType<P> | undefined>(() => loaded);
    useEffect(() => {
      if (!loaded) void load().then((m) => setScreen(() => (loaded = m.default)));
    }, []);
    return Screen ? <Screen {...props} /> : <p class="line line-note">{loading()}</p>;
  };
}
