import { connection } from "../store/live.ts";
import { t } from "../i18n/i18n.ts";

/** Says whether the live connection is up; silent (but present for screen readers) when it is. */
export function ConnectionBanner() {
  const state = connection.value;
  const text = state === "connected" ? t("conn.connected") : state === "offline" ? t("conn.offline") : state === "reconnecting" ? t("conn.reconnecting") : t("conn.connecting");
  return (
    <div class={`conn conn-${state}`} role="status" aria-live="polite" data-state={state}>
      <span class="conn-dot" aria-hidden="true" />
      {text}
    </div>
  );
}
