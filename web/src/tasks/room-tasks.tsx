import { useEffect } from "preact/hooks";
import { t } from "../i18n/i18n.ts";
import { markSeen } from "../store/live.ts";
import { tasksOf } from "../store/tasks.ts";
import { TaskCard } from "./task-card.tsx";

const seenSent = new Set<string>();

/** The room's tasks, newest first; showing one to its assignee marks it seen (once). */
export function RoomTasks({ roomId, coach }: { roomId: string; coach: boolean }) {
  const items = tasksOf(roomId).value;
  useEffect(() => {
    for (const item of items ?? []) {
      if (item.mine?.state === "assigned" && item.task.status === "open" && !seenSent.has(item.task.id)) {
        seenSent.add(item.task.id);
        void markSeen(item.task.id).catch(() => seenSent.delete(item.task.id));
      }
    }
  }, [items]);
  if (items === null) return <p class="line line-note">{t("common.loading")}</p>;
  if (items.length === 0) return <p class="line line-note">{t("tasks.empty")}</p>;
  return (
    <div class="task-list">
      {items.map((item) => (
        <TaskCard key={item.task.id} item={item} coach={coach} />
      ))}
    </div>
  );
}
