import { formatDateTime, t } from "../i18n/i18n.ts";
import type { MessageKey } from "../i18n/en.ts";
import { noticeMessage } from "./notice-text.ts";

const KINDS = new Set(["reminder", "nudge", "overdue", "digest"]);

/** A notice body as a line in the reader's language. */
export function renderNotice(body: Record<string, unknown>): string {
  const { key, params } = noticeMessage(body, formatDateTime);
  if (key === "notice.redacted") {
    const kind = String(params["kind"]);
    return t(key, { kind: KINDS.has(kind) ? t(`noticeKind.${kind}` as MessageKey) : kind });
  }
  return t(key, params);
}
