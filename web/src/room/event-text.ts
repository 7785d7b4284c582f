import { t } from "../i18n/i18n.ts";

/** A few words for what kind of event happened last in a room (the room list). */
export function eventKindText(kind: string): string {
  switch (kind) {
    case "chat":
      return t("event.chat");
    case "chat.deleted":
      return t("event.deleted");
    case "member.added":
      return t("event.memberAdded");
    case "member.removed":
      return t("event.memberRemoved");
    case "member.muted":
      return t("event.memberMuted");
    case "task.created":
      return t("event.taskCreated");
    case "task.updated":
      return t("event.taskUpdated");
    case "task.cancelled":
      return t("event.taskCancelled");
    case "task.progress":
      return t("event.progress");
    case "room.updated":
      return t("event.roomUpdated");
    case "notice":
      return t("event.notice");
    default:
      return t("event.other");
  }
}
