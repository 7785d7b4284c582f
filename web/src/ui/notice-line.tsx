import type { ComponentChildren } from "preact";

/** A short status line: an error (role=alert), or a quiet note. */
export function NoticeLine(props: { kind: "error" | "note" | "ok"; children: ComponentChildren }) {
  return (
    <p class={`line line-${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.children}
    </p>
  );
}
