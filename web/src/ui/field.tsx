import type { ComponentChildren } from "preact";

let nextId = 0;
/** A stable id for a label/control pair. */
export const fieldId = (name: string) => `f-${name}-${++nextId}`;

/** A labelled form row: the label is always visible and tied to its control; a hint or error below it. */
export function Field(props: { id: string; label: string; hint?: string; error?: string | null; children: ComponentChildren }) {
  const described = props.error ? `${props.id}-error` : props.hint ? `${props.id}-hint` : undefined;
  return (
    <div class="field" data-described={described}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && !props.error && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="error" id={`${props.id}-error`} role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}
