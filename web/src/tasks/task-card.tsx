import type { ProgressView, TaskView } from "../../../protocol/coaching.ts";
import { formatDateTime, formatRelative, num, t } from "../i18n/i18n.ts";
import type { MessageKey } from "../i18n/en.ts";
import type { TaskListItem } from "../store/types.ts";
import { Link } from "../ui/link.tsx";
import { completion, dueStatus } from "./due-status.ts";
import { ProgressEntry } from "./progress-entry.tsx";

const STATUS_KEYS: Record<string, MessageKey> = {
  upcoming: "due.upcoming",
  soon: "due.soon",
  overdue: "due.overdue",
  doneOnTime: "due.doneOnTime",
  doneLate: "due.doneLate",
  cancelled: "due.cancelled",
};

/** The due time and the late/overdue mark of a task. */
export function DueMark({ task, mine }: { task: TaskView; mine: ProgressView | null }) {
  const status = dueStatus(task, mine, Date.now());
  return (
    <p class="due">
      {task.dueAt !== null && (
        <time dateTime={new Date(task.dueAt).toISOString()} title={formatDateTime(task.dueAt)}>
          {t("due.at", { when: formatDateTime(task.dueAt), relative: formatRelative(task.dueAt) })}
        </time>
      )}
      {status !== "none" && <span class={`mark mark-${status}`}>{t(STATUS_KEYS[status]!)}</span>}
      {task.urgent && <span class="mark mark-urgent">{t("task.urgent")}</span>}
    </p>
  );
}

/** A task as a card: the student's progress and controls (a parent's copy: `readOnly`), or the coach's funnel and a link to the live board. */
export function TaskCard({ item, coach, showRoom, readOnly }: { item: TaskListItem; coach: boolean; showRoom?: string; readOnly?: boolean }) {
  const { task, mine, funnel } = item;
  const share = completion(task, mine);
  return (
    <article class={`card task ${task.status === "cancelled" ? "task-cancelled" : ""}`} data-task={task.id} aria-labelledby={`task-${task.id}`}>
      <h2 id={`task-${task.id}`} class="task-title">
        {task.title}
      </h2>
      {showRoom && <p class="task-room">{showRoom}</p>}
      {task.details && <p class="task-details">{task.details}</p>}
      <DueMark task={task} mine={mine} />
      {mine && (
        <>
          <div class="meter" role="progressbar" aria-label={t("progress.label")} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(share * 100)}>
            <div class="meter-fill" style={{ width: `${share * 100}%` }} />
          </div>
          <p class="counts" data-testid="my-counts">
            {task.target !== null
              ? t("progress.countsTarget", { solved: num(mine.solved), target: num(task.target), correct: num(mine.correct), wrong: num(mine.wrong) })
              : t("progress.counts", { correct: num(mine.correct), wrong: num(mine.wrong) })}
            {" · "}
            <span class={`state state-${mine.state}`}>{t(`state.${mine.state}` as MessageKey)}</span>
          </p>
          {!readOnly && <ProgressEntry task={task} mine={mine} />}
        </>
      )}
      {coach && funnel && (
        <p class="funnel-mini">
          {t("funnel.mini", { done: num(funnel.done), assigned: num(funnel.assigned), started: num(funnel.started), overdue: num(funnel.overdue) })}
        </p>
      )}
      {coach && (
        <Link href={`/coach/tasks/${encodeURIComponent(task.id)}`} class="btn">
          {t("task.openBoard")}
        </Link>
      )}
    </article>
  );
}
