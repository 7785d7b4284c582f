import { useEffect, useState } from "preact/hooks";
import { errorMessage, t } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { Page } from "../ui/page.tsx";

/** One of the parent's children (GET /api/parent/children). */
export interface ChildView {
  studentId: string;
  displayName: string;
  rooms: { roomId: string; name: string }[];
}

/** A parent's home: their children, each with the rooms they study in (names only). */
export function ChildrenPage() {
  const [items, setItems] = useState<ChildView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ items: ChildView[] }>("GET", "/api/parent/children").then(
      (r) => setItems(r.items),
      (err) => setError(errorMessage(err)),
    );
  }, []);
  return (
    <Page title={t("parent.title")}>
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      {items === null && !error && <p class="line line-note">{t("common.loading")}</p>}
      {items?.length === 0 && <p class="line line-note">{t("parent.none")}</p>}
      {items && items.length > 0 && (
        <ul class="room-list">
          {items.map((c) => (
            <li key={c.studentId}>
              <Link href={`/children/${encodeURIComponent(c.studentId)}`} class="room-link">
                <span class="room-name">{c.displayName}</span>
                <span class="room-last">{c.rooms.length > 0 ? c.rooms.map((r) => r.name).join(", ") : t("parent.noRooms")}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
