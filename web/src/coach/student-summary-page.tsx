import { useEffect, useState } from "preact/hooks";
import { RequestError } from "../../../protocol/client.ts";
import type { StudentSummary } from "../../../protocol/coaching.ts";
import { errorText, num, percent, t } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import { roomState } from "../store/room-state.ts";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { Page } from "../ui/page.tsx";

/** One student's record in a room: done on time, late, overdue, open, and average completion. */
export default function StudentSummaryPage({ roomId, userId }: { roomId: string; userId: string }) {
  const [summary, setSummary] = useState<StudentSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const name = roomState(roomId).members.value.find((m) => m.userId === userId)?.displayName ?? userId;
  useEffect(() => {
    void api<{ summary: StudentSummary }>("GET", `/api/rooms/${encodeURIComponent(roomId)}/students/${encodeURIComponent(userId)}/summary`).then(
      (r) => setSummary(r.summary),
      (err) => setError(err instanceof RequestError ? errorText(err.error.code) : errorText("INTERNAL")),
    );
  }, [roomId, userId]);
  const stats: [string, string][] = summary
    ? [
        [t("summary.assigned"), num(summary.assigned)],
        [t("summary.open"), num(summary.open)],
        [t("summary.doneOnTime"), num(summary.doneOnTime)],
        [t("summary.doneLate"), num(summary.doneLate)],
        [t("summary.overdue"), num(summary.overdue)],
        [t("summary.average"), percent(summary.averageCompletion)],
      ]
    : [];
  return (
    <Page title={t("summary.title", { name })}>
      <Link href={`/rooms/${encodeURIComponent(roomId)}/members`}>{t("common.backToMembers")}</Link>
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      {summary && (
        <dl class="stats card">
          {stats.map(([label, value]) => (
            <div class="stat" key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      )}
    </Page>
  );
}
