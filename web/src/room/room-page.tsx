import { t } from "../i18n/i18n.ts";
import { roomList } from "../store/room-state.ts";
import { Link } from "../ui/link.tsx";
import { Page } from "../ui/page.tsx";
import { RoomTasks } from "../tasks/room-tasks.tsx";
import { ChatView } from "./chat-view.tsx";

/** A room: its chat or its tasks (tabs), plus the coach's tools. */
export function RoomPage({ roomId, tab }: { roomId: string; tab: "chat" | "tasks" }) {
  const summary = roomList.value.find((r) => r.id === roomId);
  const base = `/rooms/${encodeURIComponent(roomId)}`;
  const coach = summary?.role === "coach";
  if (!summary) {
    return (
      <Page title={t("room.title")}>
        <p class="line line-note">{roomList.value.length === 0 ? t("common.loading") : t("room.notMember")}</p>
      </Page>
    );
  }
  return (
    <Page
      title={summary.name}
      class="room-page"
      actions={
        coach && (
          <>
            <Link href={`/coach/rooms/${encodeURIComponent(roomId)}/code`} class="btn">
              {t("room.joinCode")}
            </Link>
            <Link href={`/coach/rooms/${encodeURIComponent(roomId)}/tasks/new`} class="btn btn-primary">
              {t("room.newTask")}
            </Link>
          </>
        )
      }
    >
      <nav class="tabs" aria-label={t("room.sections")}>
        <Link href={base} aria-current={tab === "chat" ? "page" : undefined}>
          {t("room.chat")}
        </Link>
        <Link href={`${base}/tasks`} aria-current={tab === "tasks" ? "page" : undefined}>
          {t("room.tasks")}
        </Link>
        <Link href={`${base}/members`}>{t("room.members")}</Link>
      </nav>
      {tab === "chat" ? <ChatView roomId={roomId} /> : <RoomTasks roomId={roomId} coach={coach} />}
    </Page>
  );
}
