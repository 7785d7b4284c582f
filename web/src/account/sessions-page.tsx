import { useEffect, useState } from "preact/hooks";
import { errorMessage, formatDateTime, formatRelative, t } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { Page } from "../ui/page.tsx";
import { deviceName } from "./device-name.ts";

/** One live session of the user (GET /api/me/sessions). */
interface SessionView {
  id: string;
  userAgent: string;
  ip: string;
  createdAt: number;
  lastUsedAt: number;
  current: boolean;
}

function device(s: SessionView): string {
  const { browser, os } = deviceName(s.userAgent);
  if (!browser && !os) return t("sessions.unknownDevice");
  return [browser, os].filter(Boolean).join(" · ");
}

/**
 * Where the user is signed in: device, IP, last use, which one is this browser. Ending a session
 * revokes its tokens and closes its sockets on the server; that browser lands on sign-in.
 */
export function SessionsPage() {
  const [items, setItems] = useState<SessionView[] | null>(null);
  const [status, setStatus] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const load = () =>
    api<{ items: SessionView[] }>("GET", "/api/me/sessions").then(
      (r) => setItems(r.items),
      (err) => setStatus({ kind: "error", text: errorMessage(err) }),
    );
  useEffect(() => void load(), []);

  const endSessions = async (ids: string[]) => {
    setBusy(true);
    setStatus(null);
    try {
      // There is no "all but this one" route (DELETE /api/me/sessions ends this one too): one by one.
      for (const id of ids) await api("DELETE", `/api/me/sessions/${encodeURIComponent(id)}`);
      setStatus({ kind: "ok", text: t("sessions.ended", { count: ids.length }) });
    } catch (err) {
      setStatus({ kind: "error", text: errorMessage(err) });
    } finally {
      setBusy(false);
      await load();
    }
  };
  const others = items?.filter((s) => !s.current) ?? [];

  return (
    <Page
      title={t("sessions.title")}
      actions={
        others.length > 0 && (
          <button class="btn btn-danger" type="button" disabled={busy} onClick={() => void endSessions(others.map((s) => s.id))}>
            {t("sessions.endOthers")}
          </button>
        )
      }
    >
      <Link href="/settings">{t("common.backToSettings")}</Link>
      <p class="hint">{t("sessions.intro")}</p>
      {status && <NoticeLine kind={status.kind}>{status.text}</NoticeLine>}
      {items === null && !status && <p class="line line-note">{t("common.loading")}</p>}
      {items && (
        <ul class="sessions">
          {items.map((s) => (
            <li key={s.id} class="card session" data-session={s.id} data-current={s.current ? "true" : undefined}>
              <div class="session-main">
                <h2 class="session-device">
                  {device(s)}
                  {s.current && <span class="tag tag-ok">{t("sessions.thisOne")}</span>}
                </h2>
                <dl class="session-facts">
                  <div>
                    <dt>{t("sessions.ip")}</dt>
                    <dd>{s.ip || t("sessions.unknown")}</dd>
                  </div>
                  <div>
                    <dt>{t("sessions.lastUsed")}</dt>
                    <dd>
                      <time dateTime={new Date(s.lastUsedAt).toISOString()} title={formatDateTime(s.lastUsedAt)}>
                        {formatRelative(s.lastUsedAt)}
                      </time>
                    </dd>
                  </div>
                  <div>
                    <dt>{t("sessions.started")}</dt>
                    <dd>{formatDateTime(s.createdAt)}</dd>
                  </div>
                </dl>
              </div>
              {!s.current && (
                <button class="btn btn-small btn-danger" type="button" disabled={busy} aria-label={t("sessions.endOneLabel", { device: device(s), ip: s.ip || t("sessions.unknown") })} onClick={() => void endSessions([s.id])}>
                  {t("sessions.endOne")}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
