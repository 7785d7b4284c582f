import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";

/** A screen: its heading is the page title and gets focus on arrival, so screen readers announce the new page. */
export function Page(props: { title: string; class?: string; actions?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · coachwire`;
  }, [props.title]);
  return (
    <section class={`page ${props.class ?? ""}`} aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title" tabIndex={-1}>
          {props.title}
        </h1>
        {props.actions && <div class="page-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}
