import { Component } from "preact";
import { useEffect, useState } from "preact/hooks";
import { RequestError } from "../../../protocol/client.ts";
import type { BoardRow, TaskBoard, TaskView } from "../../../protocol/coaching.ts";
import { applyToBoard, type ReadMarkNotice } from "../../../protocol/live-board.ts";
import type { RoomEvent } from "../../../protocol/events.ts";
import { errorText, num, t } from "../i18n/i18n.ts";
import type { MessageKey } from "../i18n/en.ts";
import { api } from "../store/api.ts";
import { onStream } from "../store/live.ts";
import { DueMark } from "../tasks/task-card.tsx";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { Page } from "../ui/page.tsx";
import { Funnel } from "./funnel.tsx";

/** The most often the board applies what arrived (ms): well within the second a coach waits for a report. */
const FLUSH_MS = 250;

/**
 * The coach's live board of one task: read once, then every room event and read mark of the
 * SDK stream is applied with the protocol's applyToBoard, so it follows the students' reports
 * as they are stored, without a reload or a poll.
 */
export default function BoardPage({ taskId }: { taskId: string }) {
  const [board, setBoard] = useState<TaskBoard | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    // Listen first: what arrives while the board is read is applied on top of it.
    // Inputs are applied in order, in batches at most every FLUSH_MS (on a frame): a change to
    // one cell makes the browser lay out the whole 500-row table again, so 50 reports a second
    // are a few layouts a second, not one per frame (bench/web-perf.ts measured both).
    let queued: (RoomEvent | ReadMarkNotice)[] = [];
    let loaded = false;
    let frame = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastFlush = 0;
    const flush = () => {
      frame = 0;
      lastFlush = performance.now();
      const inputs = queued;
      queued = [];
      setBoard((b) => (b ? inputs.reduce(applyToBoard, b) : b));
    };
    const schedule = () => {
      if (!loaded || frame || timer) return;
      const wait = lastFlush + FLUSH_MS - performance.now();
      if (wait <= 0) frame = requestAnimationFrame(flush);
      else timer = setTimeout(() => ((timer = undefined), (frame = requestAnimationFrame(flush))), wait);
    };
    const stop = onStream((input) => {
      queued.push(input);
      schedule();
    });
    void api<{ board: TaskBoard }>("GET", `/api/tasks/${encodeURIComponent(taskId)}/board`).then(
      (r) => {
        loaded = true;
        setBoard(r.board);
        flush();
      },
      (err) => setError(err instanceof RequestError ? errorText(err.error.code) : errorText("INTERNAL")),
    );
    return () => {
      stop();
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [taskId]);

  if (!board) {
    return <Page title={t("board.title")}>{error ? <NoticeLine kind="error">{error}</NoticeLine> : <p class="line line-note">{t("common.loading")}</p>}</Page>;
  }
  const { task, rows, funnel } = board;
  const behind = rows.filter((r) => r.behindPace).length;
  return (
    <Page title={task.title} class="board-page">
      <p>
        <Link href={`/rooms/${encodeURIComponent(task.roomId)}/tasks`}>{t("common.backToRoom")}</Link>
      </p>
      <DueMark task={task} mine={null} />
      {task.target !== null && <p class="hint">{t("board.target", { target: num(task.target) })}</p>}
      <Funnel funnel={funnel} behindPace={behind} />
      <table class="board board-live" data-testid="board">
        <caption class="visually-hidden">{t("board.caption")}</caption>
        {/* Fixed column widths: a changed count re-lays out its row, not all 500 (auto layout measures every cell again). */}
        <colgroup>
          <col class="col-student" />
          <col class="col-state" />
          <col class="col-count" />
          <col class="col-count" />
          <col class="col-count" />
          <col class="col-flags" />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">{t("board.student")}</th>
            <th scope="col">{t("board.state")}</th>
            <th scope="col" class="num">{t("board.solved")}</th>
            <th scope="col" class="num">{t("board.correct")}</th>
            <th scope="col" class="num">{t("board.wrong")}</th>
            <th scope="col">{t("board.flags")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <BoardRowView key={r.userId} row={r} task={task} />
          ))}
        </tbody>
      </table>
    </Page>
  );
}

/** One assignee's row; re-rendered only when its row object changed (applyToBoard keeps the others). */
class BoardRowView extends Component<{ row: BoardRow; task: TaskView }> {
  override shouldComponentUpdate(next: { row: BoardRow; task: TaskView }): boolean {
    return next.row !== this.props.row || next.task !== this.props.task;
  }

  override render() {
    const { row: r, task } = this.props;
    return (
      <tr data-user={r.userId} data-state={r.state}>
        <th scope="row">
          <Link href={`/coach/rooms/${encodeURIComponent(task.roomId)}/students/${encodeURIComponent(r.userId)}`}>{r.displayName}</Link>
        </th>
        <td>
          <span class={`state state-${r.state}`}>{t(`state.${r.state}` as MessageKey)}</span>
          {!r.delivered && <span class="tag">{t("board.notDelivered")}</span>}
        </td>
        <td class="num" data-col="solved">
          {task.target !== null ? `${num(r.solved)} / ${num(task.target)}` : num(r.solved)}
        </td>
        <td class="num" data-col="correct">
          {num(r.correct)}
        </td>
        <td class="num" data-col="wrong">
          {num(r.wrong)}
        </td>
        <td>
          {r.late && <span class="mark mark-doneLate">{t("funnel.late")}</span>}
          {r.overdue && <span class="mark mark-overdue">{t("funnel.overdue")}</span>}
          {r.behindPace && <span class="mark mark-soon">{t("funnel.behindPace")}</span>}
        </td>
      </tr>
    );
  }
}
