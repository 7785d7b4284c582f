import { currentUser } from "../session/session.ts";
import { formatRelative, t } from "../i18n/i18n.ts";
import { roomList, roomState } from "../store/room-state.ts";
import { Badge } from "../ui/badge.tsx";
import { Link } from "../ui/link.tsx";
import { Page } from "../ui/page.tsx";
import { eventKindText } from "../room/event-text.ts";

/** The user's rooms: unread count and the last thing that happened, live. */
export function RoomsList() {
  const user = currentUser.value!;
  const items = roomList.value;
  const coach = user.role !== "student";
  return (
    <Page
      title={t("rooms.title")}
      actions={
        coach ? (
          <Link href="/coach/rooms/new" class="btn btn-primary">
            {t("rooms.create")}
          </Link>
        ) : (
          <Link href="/join" class="btn">
            {t("rooms.join")}
          </Link>
        )
      }
    >
      {items.length === 0 && <p class="line line-note">{t("rooms.empty")}</p>}
      <ul class="room-list">
        {items.map((room) => {
          const last = room.lastEvent;
          const sender = last?.senderId ? roomState(room.id).members.value.find((m) => m.userId === last.senderId)?.displayName : undefined;
          return (
            <li key={room.id} class="room-item">
              <Link href={`/rooms/${encodeURIComponent(room.id)}`} class="room-link">
                <span class="room-name">{room.name}</span>
                <span class="room-last">
                  {last ? (
                    <>
                      {sender ? `${sender}: ` : ""}
                      {eventKindText(last.kind)} · <time dateTime={new Date(last.createdAt).toISOString()}>{formatRelative(last.createdAt)}</time>
                    </>
                  ) : (
                    t("rooms.noEvents")
                  )}
                </span>
                <span class="room-meta">
                  {room.role === "coach" && <span class="tag">{t("role.coach")}</span>}
                  <Badge count={room.unread} label={t("rooms.unread", { count: room.unread })} />
                </span>
              </Link>
            </li>
          );
        })}
      </ul>
    </Page>
  );
}
