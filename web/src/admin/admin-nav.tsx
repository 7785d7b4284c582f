import type { ComponentChildren } from "preact";
import type { MessageKey } from "../i18n/en.ts";
import { t } from "../i18n/i18n.ts";
import { path } from "../router.ts";
import { Link } from "../ui/link.tsx";
import { Page } from "../ui/page.tsx";
import "./admin.css";

const SECTIONS: [href: string, label: MessageKey][] = [
  ["/admin/people", "admin.nav.people"],
  ["/admin/import", "admin.nav.import"],
  ["/admin/invites", "admin.nav.invites"],
  ["/admin/audit", "admin.nav.audit"],
  ["/admin/outbox", "admin.nav.outbox"],
];

/** An admin screen: the page heading, then the admin sections as tabs (the current one marked). */
export function AdminPage(props: { title: string; children: ComponentChildren }) {
  const current = path.value === "/admin" ? "/admin/people" : path.value;
  return (
    <Page title={props.title} class="admin">
      <nav aria-label={t("admin.nav.label")}>
        <ul class="tabs admin-tabs">
          {SECTIONS.map(([href, label]) => (
            <li key={href}>
              <Link href={href} aria-current={current === href ? "page" : undefined}>
                {t(label)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {props.children}
    </Page>
  );
}
