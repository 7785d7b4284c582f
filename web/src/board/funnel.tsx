import type { Funnel as FunnelCounts } from "../../../protocol/coaching.ts";
import { num, t } from "../i18n/i18n.ts";
import type { MessageKey } from "../i18n/en.ts";

const STAGES = ["assigned", "delivered", "seen", "started", "done"] as const;

/** assigned → delivered → seen → started → done as bars, then late / overdue / behind pace. */
export function Funnel({ funnel, behindPace }: { funnel: FunnelCounts; behindPace: number }) {
  const max = Math.max(1, funnel.assigned);
  return (
    <section class="funnel card" aria-labelledby="funnel-title">
      <h2 id="funnel-title" class="section-title">
        {t("funnel.title")}
      </h2>
      <ol class="funnel-stages">
        {STAGES.map((stage) => (
          <li key={stage} class="funnel-stage" data-stage={stage}>
            <span class="funnel-label">{t(`funnel.${stage}` as MessageKey)}</span>
            <span class="funnel-bar" aria-hidden="true">
              <span class="funnel-fill" style={{ width: `${(funnel[stage] / max) * 100}%` }} />
            </span>
            <span class="funnel-count" data-count={funnel[stage]}>
              {num(funnel[stage])}
            </span>
          </li>
        ))}
      </ol>
      <ul class="funnel-flags">
        <li data-flag="late">
          {t("funnel.late")}: <strong>{num(funnel.late)}</strong>
        </li>
        <li data-flag="overdue">
          {t("funnel.overdue")}: <strong>{num(funnel.overdue)}</strong>
        </li>
        <li data-flag="behindPace">
          {t("funnel.behindPace")}: <strong>{num(behindPace)}</strong>
        </li>
      </ul>
    </section>
  );
}
