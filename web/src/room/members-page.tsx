import { useEffect, useState } from "preact/hooks";
import { RequestError } from "../../../protocol/client.ts";
import type { RoomMember } from "../../../protocol/events.ts";
import { errorText, t } from "../i18n/i18n.ts";
import { currentUser } from "../session/session.ts";
import { api } from "../store/api.ts";
import { roomList, roomState } from "../store/room-state.ts";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { Page } from "../ui/page.tsx";

/** Who is in the room and who is online; the room's coach can mute, unmute and remove students. */
export function MembersPage({ roomId }: { roomId: string }) {
  const state = roomState(roomId);
  const summary = roomList.value.find((r) => r.id === roomId);
  const coach = summary?.role === "coach";
  const me = currentUser.value!.id;
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void api<{ members: RoomMember[] }>("GET", `/api/rooms/${encodeURIComponent(roomId)}`).then(
      (r) => (state.members.value = r.members),
      (err) => setError(err instanceof RequestError ? errorText(err.error.code) : errorText("INTERNAL")),
    );
  }, [roomId]);
  const path = (userId: string) => `/api/rooms/${encodeURIComponent(roomId)}/members/${encodeURIComponent(userId)}`;
  const act = async (run: () => Promise<unknown>) => {
    setError(null);
    try {
      await run();
    } catch (err) {
      setError(err instanceof RequestError ? errorText(err.error.code) : errorText("INTERNAL"));
    }
  };
  const online = state.online.value;
  return (
    <Page title={t("members.title", { room: summary?.name ?? "" })}>
      <Link href={`/rooms/${encodeURIComponent(roomId)}`}>{t("common.backToRoom")}</Link>
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      <ul class="members">
        {state.members.value.map((m) => (
          <li key={m.userId} class="member" data-user={m.userId}>
            <span class={`presence ${online.has(m.userId) ? "presence-on" : ""}`} aria-hidden="true" />
            <span class="member-name">
              {m.displayName}
              <span class="visually-hidden">{online.has(m.userId) ? t("members.online") : t("members.offline")}</span>
            </span>
            <span class="tag">{t(m.role === "coach" ? "role.coach" : "role.student")}</span>
            {m.muted && <span class="tag tag-warn">{t("members.muted")}</span>}
            {coach && m.role === "student" && m.userId !== me && (
              <span class="member-actions">
                <Link href={`/coach/rooms/${encodeURIComponent(roomId)}/students/${encodeURIComponent(m.userId)}`} class="btn btn-small">
                  {t("members.summary")}
                </Link>
                <button
                  class="btn btn-small"
                  type="button"
                  onClick={() => void act(() => api("POST", `${path(m.userId)}/mute`, { muted: !m.muted }))}
                  aria-label={t(m.muted ? "members.unmuteName" : "members.muteName", { name: m.displayName })}
                >
                  {t(m.muted ? "members.unmute" : "members.mute")}
                </button>
                <button
                  class="btn btn-small btn-danger"
                  type="button"
                  onClick={() => {
                    if (confirm(t("members.confirmRemove", { name: m.displayName }))) void act(() => api("DELETE", path(m.userId)));
                  }}
                  aria-label={t("members.removeName", { name: m.displayName })}
                >
                  {t("members.remove")}
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
    </Page>
  );
}
