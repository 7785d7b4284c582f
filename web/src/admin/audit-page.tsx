import { signal } from "@preact/signals";
import { useState } from "preact/hooks";
import { formatDateTime, t } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import { Field } from "../ui/field.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { AdminPage } from "./admin-nav.tsx";
import type { AuditRow, Person } from "./admin-types.ts";
import { actionName, AUDIT_ACTIONS } from "./admin-words.ts";
import { usePagedList } from "./paged-list.ts";
import { LoadMore } from "./people-page.tsx";

// Display names of the actors and targets seen in the log, read once per id (GET /api/admin/users/:id).
const names = signal<ReadonlyMap<string, string>>(new Map());
const asked = new Set<string>();
function nameOf(id: string | null): string | undefined {
  if (!id) return undefined;
  if (!asked.has(id)) {
    asked.add(id);
    void api<{ user: Person }>("GET", `/api/admin/users/${encodeURIComponent(id)}`).then(
      ({ user }) => (names.value = new Map(names.value).set(id, user.displayName)),
      () => undefined, // not a user (an import, an invite's email, a message): the id is shown as it is
    );
  }
  return names.value.get(id);
}

/** "2026-12-02T10:00" of a datetime-local input as ms in the browser's zone; "" is no bound. */
const localToMs = (value: string) => (value ? new Date(value).getTime() : undefined);

function Who(props: { id: string | null; fallback: string }) {
  if (!props.id) return <>{props.fallback}</>;
  const name = nameOf(props.id);
  return name ? (
    <>
      {name} <span class="hint">({props.id})</span>
    </>
  ) : (
    <>{props.id}</>
  );
}

/** The institution's audit log, newest first: filters by action, actor, target and time; "load more" follows the cursor. */
export function AuditPage() {
  const [action, setAction] = useState("");
  const [actorId, setActorId] = useState("");
  const [targetId, setTargetId] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [query, setQuery] = useState<Record<string, string | number | undefined>>({});
  const list = usePagedList<AuditRow>("audit", { ...query, limit: 50 });
  const apply = (e: Event) => {
    e.preventDefault();
    setQuery({ action, actorId: actorId.trim(), targetId: targetId.trim(), since: localToMs(since), until: localToMs(until) });
  };
  return (
    <AdminPage title={t("admin.audit.title")}>
      <form class="admin-filters" onSubmit={apply} aria-label={t("admin.audit.filters")}>
        <Field id="audit-action" label={t("admin.audit.action")}>
          <select id="audit-action" value={action} onChange={(e) => setAction(e.currentTarget.value)}>
            <option value="">{t("admin.all")}</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {actionName(a)}
              </option>
            ))}
          </select>
        </Field>
        <Field id="audit-actor" label={t("admin.audit.actorId")}>
          <input id="audit-actor" maxLength={64} value={actorId} onInput={(e) => setActorId(e.currentTarget.value)} />
        </Field>
        <Field id="audit-target" label={t("admin.audit.targetId")}>
          <input id="audit-target" maxLength={200} value={targetId} onInput={(e) => setTargetId(e.currentTarget.value)} />
        </Field>
        <Field id="audit-since" label={t("admin.audit.since")}>
          <input id="audit-since" type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} />
        </Field>
        <Field id="audit-until" label={t("admin.audit.until")}>
          <input id="audit-until" type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
        </Field>
        <button class="btn" type="submit">
          {t("admin.audit.apply")}
        </button>
      </form>
      {list.error && <NoticeLine kind="error">{list.error}</NoticeLine>}
      {!list.loading && list.items.length === 0 && !list.error && <NoticeLine kind="note">{t("admin.audit.none")}</NoticeLine>}
      {list.items.length > 0 && (
        <table class="board admin-table audit">
          <caption class="visually-hidden">{t("admin.audit.title")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("admin.audit.time")}</th>
              <th scope="col">{t("admin.audit.action")}</th>
              <th scope="col">{t("admin.audit.actor")}</th>
              <th scope="col">{t("admin.audit.target")}</th>
              <th scope="col">{t("admin.audit.details")}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((row) => (
              <tr key={row.id} data-action={row.action}>
                <td data-label={t("admin.audit.time")} class="nowrap">{formatDateTime(row.createdAt)}</td>
                <td data-label={t("admin.audit.action")} class="audit-action">
                  {actionName(row.action)}
                </td>
                <td data-label={t("admin.audit.actor")}>
                  <Who id={row.actorId} fallback={t("admin.audit.cli")} />
                </td>
                <td data-label={t("admin.audit.target")}>
                  {row.targetType === "user" ? <Who id={row.targetId} fallback="—" /> : row.targetId ?? "—"}
                </td>
                <td data-label={t("admin.audit.details")} class="audit-details">
                  {Object.keys(row.details ?? {}).length ? JSON.stringify(row.details) : "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LoadMore list={list} />
    </AdminPage>
  );
}
