import { useEffect, useState } from "preact/hooks";
import type { ProgressView, StudentSummary, TaskView } from "../../../protocol/coaching.ts";
import { errorMessage, num, percent, t } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import { TaskCard } from "../tasks/task-card.tsx";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { Page } from "../ui/page.tsx";
import type { ChildView } from "./children-page.tsx";

interface ChildTask {
  task: TaskView;
  progress: ProgressView;
}

/**
 * One child, as their parent sees them: a summary per room and every task with the child's
 * progress (read only). A student who is not the caller's child answers NOT_FOUND, like an
 * unknown id: the page says so and shows nothing else.
 */
export function ChildPage({ studentId }: { studentId: string }) {
  const [child, setChild] = useState<ChildView | null>(null);
  const [summary, setSummary] = useState<StudentSummary[] | null>(null);
  const [tasks, setTasks] = useState<ChildTask[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [notTheirs, setNotTheirs] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const base = `/api/parent/children/${encodeURIComponent(studentId)}`;

  const fail = (err: unknown) => {
    if ((err as { error?: { code?: string } }).error?.code === "NOT_FOUND") setNotTheirs(true);
    else setError(errorMessage(err));
  };
  const loadTasks = (cursor: string | null) =>
    api<{ items: ChildTask[]; nextCursor: string | null }>("GET", `${base}/tasks?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`).then((r) => {
      setTasks((prev) => [...(cursor ? (prev ?? []) : []), ...r.items]);
      setNext(r.nextCursor);
    }, fail);
  useEffect(() => {
    setNotTheirs(false);
    setError(null);
    api<{ items: ChildView[] }>("GET", "/api/parent/children").then((r) => setChild(r.items.find((c) => c.studentId === studentId) ?? null), fail);
    api<{ summary: { rooms: StudentSummary[] } }>("GET", `${base}/summary`).then((r) => setSummary(r.summary.rooms), fail);
    void loadTasks(null);
  }, [studentId]);

  if (notTheirs) {
    return (
      <Page title={t("parent.notTheirsTitle")}>
        <p class="line line-error" role="alert" data-testid="not-your-child">
          {t("parent.notTheirs")}
        </p>
        <Link href="/">{t("parent.back")}</Link>
      </Page>
    );
  }
  const roomName = (roomId: string) => child?.rooms.find((r) => r.roomId === roomId)?.name ?? roomId;
  return (
    <Page title={child?.displayName ?? t("common.loading")}>
      <Link href="/">{t("parent.back")}</Link>
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      <h2 class="section-title">{t("parent.summary")}</h2>
      {summary?.length === 0 && <p class="line line-note">{t("parent.noRooms")}</p>}
      {summary?.map((s) => (
        <section class="card child-room" key={s.roomId} aria-labelledby={`sum-${s.roomId}`}>
          <h3 id={`sum-${s.roomId}`}>{roomName(s.roomId)}</h3>
          <dl class="stats">
            {(
              [
                [t("summary.assigned"), num(s.assigned)],
                [t("summary.open"), num(s.open)],
                [t("summary.doneOnTime"), num(s.doneOnTime)],
                [t("summary.doneLate"), num(s.doneLate)],
                [t("summary.overdue"), num(s.overdue)],
                [t("summary.average"), percent(s.averageCompletion)],
              ] as const
            ).map(([label, value]) => (
              <div class="stat" key={label}>
                <dt>{label}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
        </section>
      ))}
      <h2 class="section-title">{t("parent.tasks")}</h2>
      {tasks === null && !error && <p class="line line-note">{t("common.loading")}</p>}
      {tasks?.length === 0 && <p class="line line-note">{t("tasks.empty")}</p>}
      {tasks && tasks.length > 0 && (
        <div class="task-list">
          {tasks.map(({ task, progress }) => (
            <TaskCard key={task.id} item={{ task, mine: progress, funnel: null }} coach={false} readOnly showRoom={roomName(task.roomId)} />
          ))}
        </div>
      )}
      {next && (
        <button class="btn" type="button" onClick={() => void loadTasks(next)}>
          {t("common.more")}
        </button>
      )}
    </Page>
  );
}
