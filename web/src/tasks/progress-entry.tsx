import { useRef, useState } from "preact/hooks";
import { randomId, RequestError } from "../../../protocol/client.ts";
import type { ProgressView, TaskView } from "../../../protocol/coaching.ts";
import { errorText, num, t } from "../i18n/i18n.ts";
import { reportProgress } from "../store/live.ts";
import { NoticeLine } from "../ui/notice-line.tsx";

/**
 * Big +correct / +wrong buttons gather a report; "Send" sends it with one opId. The opId stays
 * the same until the server acknowledged that report, so a double tap (or a resend after a
 * dropped connection) counts once. "Done" is a report of its own, with its own opId.
 */
export function ProgressEntry({ task, mine }: { task: TaskView; mine: ProgressView }) {
  const [draft, setDraft] = useState({ correct: 0, wrong: 0 });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const opId = useRef(randomId());
  const doneOp = useRef(randomId());
  const left = task.target === null ? Infinity : task.target - mine.solved - draft.correct - draft.wrong;
  const finished = mine.state === "done" || task.status === "cancelled";

  const send = async (report: { correct?: number; wrong?: number; state?: "done" }, op: { current: string }) => {
    setError(null);
    setBusy(true);
    try {
      await reportProgress({ taskId: task.id, opId: op.current, ...report });
      op.current = randomId();
      if (!report.state) setDraft({ correct: 0, wrong: 0 });
    } catch (err) {
      setError(err instanceof RequestError ? errorText(err.error.code) : errorText("UNAVAILABLE"));
    } finally {
      setBusy(false);
    }
  };

  if (finished) return null;
  const staged = draft.correct + draft.wrong;
  return (
    <div class="entry" role="group" aria-label={t("progress.entryLabel", { title: task.title })}>
      <div class="entry-buttons">
        <button class="btn btn-big btn-correct" type="button" disabled={left <= 0} onClick={() => setDraft((d) => ({ ...d, correct: d.correct + 1 }))}>
          {t("progress.plusCorrect")}
        </button>
        <button class="btn btn-big btn-wrong" type="button" disabled={left <= 0} onClick={() => setDraft((d) => ({ ...d, wrong: d.wrong + 1 }))}>
          {t("progress.plusWrong")}
        </button>
      </div>
      <p class="entry-draft" aria-live="polite">
        {staged > 0 ? t("progress.draft", { correct: num(draft.correct), wrong: num(draft.wrong) }) : t("progress.nothingYet")}
      </p>
      <div class="entry-actions">
        <button class="btn btn-primary" type="button" disabled={staged === 0} onClick={() => void send(draft, opId)} data-action="send-progress">
          {t("progress.send", { count: staged })}
        </button>
        {staged > 0 && (
          <button class="btn btn-quiet" type="button" disabled={busy} onClick={() => setDraft({ correct: 0, wrong: 0 })}>
            {t("progress.clear")}
          </button>
        )}
        <button class="btn btn-done" type="button" onClick={() => void send({ state: "done" }, doneOp)} data-action="done">
          {t("progress.done")}
        </button>
      </div>
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
    </div>
  );
}
