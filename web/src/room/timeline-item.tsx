import type { CoachingEventBodies } from "../../../protocol/coaching.ts";
import type { RoomEvent, RoomMember } from "../../../protocol/events.ts";
import { formatDateTime, formatTime, t } from "../i18n/i18n.ts";
import { renderNotice } from "../notices/render-notice.ts";
import type { PendingMessage } from "../store/types.ts";

interface Props {
  event: RoomEvent;
  me: string;
  members: readonly RoomMember[];
  /** Members other than the sender who have read it (own messages only). */
  readBy: number;
  canDelete: boolean;
  onDelete(seq: number): void;
}

const nameOf = (members: readonly RoomMember[], id: string | null) => members.find((m) => m.userId === id)?.displayName ?? t("chat.someone");

/** One entry of a room's timeline. Chat text is a text node: markup in it stays characters. */
export function TimelineItem({ event, me, members, readBy, canDelete, onDelete }: Props) {
  if (event.kind === "chat") {
    const mine = event.senderId === me;
    const body = event.body as { text?: string; deleted?: boolean };
    return (
      <article class={`msg ${mine ? "msg-mine" : ""}`} data-seq={event.seq} aria-label={t("chat.messageFrom", { name: nameOf(members, event.senderId) })}>
        <header class="msg-head">
          <span class="msg-sender">{mine ? t("chat.you") : nameOf(members, event.senderId)}</span>
          <time class="msg-time" dateTime={new Date(event.createdAt).toISOString()} title={formatDateTime(event.createdAt)}>
            {formatTime(event.createdAt)}
          </time>
        </header>
        {body.deleted ? <p class="msg-text msg-deleted">{t("chat.deleted")}</p> : <p class="msg-text">{body.text}</p>}
        <footer class="msg-foot">
          {mine && !body.deleted && (
            <span class="msg-status" data-status={readBy > 0 ? "read" : "sent"}>
              {readBy > 0 ? t("chat.readBy", { count: readBy }) : t("chat.sent")}
            </span>
          )}
          {canDelete && !body.deleted && (
            <button class="btn btn-quiet btn-small" type="button" onClick={() => onDelete(event.seq)} aria-label={t("chat.deleteLabel")}>
              {t("chat.delete")}
            </button>
          )}
        </footer>
      </article>
    );
  }
  return <p class="sys" data-seq={event.seq}>{systemLine(event, members)}</p>;
}

function systemLine(event: RoomEvent, members: readonly RoomMember[]): string {
  switch (event.kind) {
    case "member.added": {
      const b = event.body as CoachingEventBodies["member.added"];
      return t("sys.joined", { name: b.displayName });
    }
    case "member.removed":
      return t("sys.removed", { name: nameOf(members, (event.body as CoachingEventBodies["member.removed"]).userId) });
    case "member.muted": {
      const b = event.body as CoachingEventBodies["member.muted"];
      return t(b.muted ? "sys.muted" : "sys.unmuted", { name: nameOf(members, b.userId) });
    }
    case "task.created":
      return t("sys.taskCreated", { title: (event.body as CoachingEventBodies["task.created"]).task.title });
    case "task.cancelled":
      return t("sys.taskCancelled", { title: (event.body as CoachingEventBodies["task.cancelled"]).task.title });
    case "notice":
      return renderNotice(event.body as Record<string, unknown>);
    default:
      return t("event.other");
  }
}

/** A message of this user still on its way (or failed, with a retry). */
export function PendingItem({ pending, onRetry }: { pending: PendingMessage; onRetry(): void }) {
  return (
    <article class="msg msg-mine msg-pending" aria-label={t("chat.messageFrom", { name: t("chat.you") })}>
      <header class="msg-head">
        <span class="msg-sender">{t("chat.you")}</span>
      </header>
      <p class="msg-text">{pending.text}</p>
      <footer class="msg-foot">
        <span class="msg-status" data-status={pending.status}>
          {pending.status === "sending" ? t("chat.sending") : t("chat.failed")}
        </span>
        {pending.status === "failed" && (
          <button class="btn btn-quiet btn-small" type="button" onClick={onRetry}>
            {t("chat.retry")}
          </button>
        )}
      </footer>
    </article>
  );
}
