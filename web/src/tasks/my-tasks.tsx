import { useEffect } from "preact/hooks";
import { t } from "../i18n/i18n.ts";
import { roomList } from "../store/room-state.ts";
import { loadMyTasks, myTasks } from "../store/tasks.ts";
import { Page } from "../ui/page.tsx";
import { TaskCard } from "./task-card.tsx";

/** Every task the user is assigned, across rooms, open ones first. */
export function MyTasks() {
  useEffect(() => void loadMyTasks(), []);
  const items = myTasks.value;
  const open = items?.filter((i) => i.task.status === "open" && i.mine?.state !== "done") ?? [];
  const rest = items?.filter((i) => !open.includes(i)) ?? [];
  const roomName = (id: string) => roomList.value.find((r) => r.id === id)?.name ?? id;
  return (
    <Page title={t("myTasks.title")}>
      {items === null && <p class="line line-note">{t("common.loading")}</p>}
      {items?.length === 0 && <p class="line line-note">{t("tasks.empty")}</p>}
      {open.length > 0 && (
        <section aria-labelledby="open-tasks">
          <h2 id="open-tasks" class="section-title">{t("myTasks.open", { count: open.length })}</h2>
          <div class="task-list">
            {open.map((item) => (
              <TaskCard key={item.task.id} item={item} coach={false} showRoom={roomName(item.task.roomId)} />
            ))}
          </div>
        </section>
      )}
      {rest.length > 0 && (
        <section aria-labelledby="past-tasks">
          <h2 id="past-tasks" class="section-title">{t("myTasks.past", { count: rest.length })}</h2>
          <div class="task-list">
            {rest.map((item) => (
              <TaskCard key={item.task.id} item={item} coach={false} showRoom={roomName(item.task.roomId)} />
            ))}
          </div>
        </section>
      )}
    </Page>
  );
}
