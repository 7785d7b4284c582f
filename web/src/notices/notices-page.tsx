import { useEffect, useState } from "preact/hooks";
import { RequestError } from "../../../protocol/client.ts";
import { errorText, formatDateTime, t } from "../i18n/i18n.ts";
import type { MessageKey } from "../i18n/en.ts";
import { api } from "../store/api.ts";
import { onStream } from "../store/live.ts";
import { roomList } from "../store/room-state.ts";
import type { NoticeView } from "../store/types.ts";
import { currentUser } from "../session/session.ts";
import { NoticeLine } from "../ui/notice-line.tsx";
import { Page } from "../ui/page.tsx";
import { renderNotice } from "./render-notice.ts";

/** The user's reminders, nudges, overdue notices and digests, newest first, in the reader's language. */
export function NoticesPage() {
  const [items, setItems] = useState<NoticeView[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async (cursor?: string) => {
    try {
      const page = await api<{ items: NoticeView[]; nextCursor: string | null }>("GET", `/api/me/notices?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      setItems((old) => (cursor && old ? [...old, ...page.items] : page.items));
      setNext(page.nextCursor);
    } catch (err) {
      setError(err instanceof RequestError ? errorText(err.error.code) : errorText("INTERNAL"));
    }
  };
  useEffect(() => {
    void load();
    // A new notice for this user arrives on the room stream: read the inbox again.
    return onStream((input) => {
      if ("kind" in input && input.kind === "notice" && (input.body as { userId?: string }).userId === currentUser.value?.id) void load();
    });
  }, []);
  const roomName = (id: string) => roomList.value.find((r) => r.id === id)?.name ?? id;
  return (
    <Page title={t("notices.title")}>
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      {items === null && !error && <p class="line line-note">{t("common.loading")}</p>}
      {items?.length === 0 && <p class="line line-note">{t("notices.empty")}</p>}
      <ul class="notices">
        {items?.map((n) => (
          <li key={n.id} class={`card notice notice-${n.kind}`}>
            <p class="notice-kind">
              <span class="tag">{t(`noticeKind.${n.kind}` as MessageKey)}</span> {roomName(n.roomId)}
            </p>
            <p class="notice-text">{renderNotice(n.body)}</p>
            <time class="notice-time" dateTime={new Date(n.createdAt).toISOString()}>
              {formatDateTime(n.createdAt)}
            </time>
          </li>
        ))}
      </ul>
      {next && (
        <button class="btn" type="button" onClick={() => void load(next)}>
          {t("common.more")}
        </button>
      )}
    </Page>
  );
}
