import { formatDateTime, t } from "../i18n/i18n.ts";
import type { MessageKey } from "../i18n/en.ts";
import { NoticeLine } from "../ui/notice-line.tsx";
import { AdminPage } from "./admin-nav.tsx";
import type { OutboxMail } from "./admin-types.ts";
import { usePagedList } from "./paged-list.ts";
import { LoadMore } from "./people-page.tsx";

/**
 * The institution's mail, newest first. Without SMTP the mail stays here and its link (invite,
 * welcome, reset) is read from this page; mail sent over SMTP is listed without its token.
 */
export function OutboxPage() {
  const list = usePagedList<OutboxMail>("outbox", { limit: 50 });
  const kept = list.items.some((m) => m.transport === "outbox");
  return (
    <AdminPage title={t("admin.outbox.title")}>
      <NoticeLine kind="note">{kept || list.items.length === 0 ? t("admin.outbox.noSmtp") : t("admin.outbox.smtp")}</NoticeLine>
      {list.error && <NoticeLine kind="error">{list.error}</NoticeLine>}
      {!list.loading && list.items.length === 0 && !list.error && <NoticeLine kind="note">{t("admin.outbox.none")}</NoticeLine>}
      {list.items.length > 0 && (
        <table class="board admin-table outbox">
          <caption class="visually-hidden">{t("admin.outbox.title")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("admin.outbox.to")}</th>
              <th scope="col">{t("admin.outbox.subject")}</th>
              <th scope="col">{t("admin.outbox.link")}</th>
              <th scope="col">{t("admin.outbox.status")}</th>
              <th scope="col">{t("admin.outbox.time")}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((mail) => (
              <tr key={mail.id} data-to={mail.to}>
                <td data-label={t("admin.outbox.to")} class="mail-to">
                  {mail.to}
                </td>
                <td data-label={t("admin.outbox.subject")} class="mail-subject">
                  {mail.subject}
                </td>
                <td data-label={t("admin.outbox.link")} class="mail-link">
                  {mail.link ? (
                    <a href={mail.link} rel="noreferrer">
                      {mail.link}
                    </a>
                  ) : (
                    "—"
                  )}
                </td>
                <td data-label={t("admin.outbox.status")} class="nowrap">
                  {t(`admin.mail.${mail.status}` as MessageKey)}
                  {mail.lastError && <span class="hint"> ({mail.lastError})</span>}
                </td>
                <td data-label={t("admin.outbox.time")} class="nowrap">{formatDateTime(mail.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LoadMore list={list} />
    </AdminPage>
  );
}
