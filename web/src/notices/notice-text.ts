import type { MessageKey } from "../i18n/en.ts";
import type { Params } from "../i18n/translate.ts";

/**
 * A notice's line, built from its fields (never from the server's English `text`): which
 * catalog entry and which values. `when` formats the due time in the reader's language.
 */
export function noticeMessage(body: Record<string, unknown>, when: (ms: number) => string): { key: MessageKey; params: Params } {
  const str = (k: string) => (typeof body[k] === "string" ? (body[k] as string) : "");
  const int = (k: string) => (typeof body[k] === "number" ? (body[k] as number) : 0);
  if (body["redacted"] === true) return { key: "notice.redacted", params: { kind: str("notice") } };
  switch (body["notice"]) {
    case "reminder":
      return { key: "notice.reminder", params: { title: str("title"), when: when(int("dueAt")) } };
    case "nudge": {
      const left = Math.max(0, int("target") - int("solved"));
      return { key: "notice.nudge", params: { title: str("title"), count: left, when: when(int("dueAt")) } };
    }
    case "overdue": {
      const missed = Array.isArray(body["missed"]) ? (body["missed"] as { displayName?: string }[]) : [];
      return {
        key: "notice.overdue",
        params: { title: str("title"), count: missed.length, names: missed.map((m) => m.displayName ?? "").join(", ") },
      };
    }
    case "digest":
      return {
        key: "notice.digest",
        params: { day: str("day"), onTime: int("doneOnTime"), late: int("doneLate"), overdue: int("overdue"), open: int("open") },
      };
    default:
      return { key: "notice.unknown", params: {} };
  }
}
