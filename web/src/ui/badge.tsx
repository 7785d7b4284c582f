/** A count in a pill (unread messages); its label says what it counts. */
export function Badge(props: { count: number; label: string }) {
  if (props.count <= 0) return null;
  return (
    <span class="badge" aria-label={props.label} title={props.label}>
      {props.count > 99 ? "99+" : props.count}
    </span>
  );
}
