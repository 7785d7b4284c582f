import { useEffect, useRef, useState } from "preact/hooks";
import { RequestError } from "../../../protocol/client.ts";
import type { RoomEvent } from "../../../protocol/events.ts";
import { errorText, t } from "../i18n/i18n.ts";
import { currentUser } from "../session/session.ts";
import { deleteMessage, loadOlder, markRead, resend, sendMessage, typing } from "../store/live.ts";
import { readCount, roomList, roomState } from "../store/room-state.ts";
import type { PendingMessage } from "../store/types.ts";
import { NoticeLine } from "../ui/notice-line.tsx";
import { VirtualList } from "../ui/virtual-list.tsx";
import { PendingItem, TimelineItem } from "./timeline-item.tsx";

type Row = { event: RoomEvent } | { pending: PendingMessage };
const MAX_TEXT = 4000;

/** Live chat of one room: the timeline (older pages on scroll up), who is online and typing, and the composer. */
export function ChatView({ roomId }: { roomId: string }) {
  const me = currentUser.value!.id;
  const state = roomState(roomId);
  const summary = roomList.value.find((r) => r.id === roomId);
  const members = state.members.value;
  const isCoach = summary?.role === "coach";
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const loadingOlder = useRef(false);

  // The reader sees the room: everything delivered so far counts as read.
  const lastSeq = summary?.lastSeq ?? 0;
  useEffect(() => {
    if (lastSeq > 0 && document.visibilityState === "visible") void markRead(roomId, lastSeq);
  }, [roomId, lastSeq]);

  const rows: Row[] = [...state.events.value.map((event) => ({ event })), ...state.pending.value.map((pending) => ({ pending }))];
  const typers = [...state.typing.value.keys()].map((id) => members.find((m) => m.userId === id)?.displayName).filter(Boolean) as string[];
  const online = members.filter((m) => state.online.value.has(m.userId));

  const older = async () => {
    if (loadingOlder.current || !state.hasOlder.value) return;
    loadingOlder.current = true;
    try {
      await loadOlder(roomId);
    } finally {
      loadingOlder.current = false;
    }
  };

  const submit = (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    if (summary?.muted) return setError(errorText("MUTED"));
    setError(null);
    sendMessage(roomId, body);
    setText("");
  };

  const remove = async (seq: number) => {
    try {
      await deleteMessage(roomId, seq);
    } catch (err) {
      setError(err instanceof RequestError ? errorText(err.error.code) : errorText("INTERNAL"));
    }
  };

  return (
    <div class="chat">
      <p class="online" aria-live="polite">
        <span class="online-count">{t("chat.online", { count: online.length })}</span>
        {online.length > 0 && <span class="online-names">: {online.map((m) => m.displayName).join(", ")}</span>}
      </p>
      {state.hasOlder.value && (
        <button class="btn btn-quiet btn-small older" type="button" onClick={() => void older()}>
          {t("chat.older")}
        </button>
      )}
      <VirtualList
        items={rows}
        keyOf={(r) => ("event" in r ? `e${r.event.seq}` : `p${r.pending.clientId}`)}
        estimate={64}
        label={t("chat.label")}
        onNearTop={() => void older()}
        render={(r) =>
          "event" in r ? (
            <TimelineItem
              event={r.event}
              me={me}
              members={members}
              readBy={r.event.senderId === me ? readCount(state, r.event.seq, me) : 0}
              canDelete={isCoach}
              onDelete={(seq) => void remove(seq)}
            />
          ) : (
            <PendingItem pending={r.pending} onRetry={() => resend(roomId, r.pending.clientId)} />
          )
        }
      />
      <p class="typing" aria-live="polite">
        {typers.length > 0 ? t("chat.typing", { names: typers.join(", "), count: typers.length }) : "\u00a0"}
      </p>
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      <form class="composer" onSubmit={submit}>
        <label for="composer-text" class="visually-hidden">
          {t("chat.compose")}
        </label>
        <textarea
          id="composer-text"
          rows={2}
          maxLength={MAX_TEXT}
          placeholder={summary?.muted ? t("chat.mutedPlaceholder") : t("chat.placeholder")}
          disabled={summary?.muted}
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            typing(roomId);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) submit(e);
          }}
        />
        <button class="btn btn-primary" type="submit" disabled={summary?.muted}>
          {t("chat.send")}
        </button>
      </form>
    </div>
  );
}
