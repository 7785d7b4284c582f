import { useState } from "preact/hooks";
import { formatDateTime, t } from "../i18n/i18n.ts";
import { currentUser } from "../session/session.ts";
import { api } from "../store/api.ts";
import { Field } from "../ui/field.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { AdminPage } from "./admin-nav.tsx";
import { failureText } from "./admin-api.ts";
import { STAFF_OR_STUDENT, type Person, type PersonRole, type PersonStatus, type StaffOrStudent } from "./admin-types.ts";
import { roleName, statusName } from "./admin-words.ts";
import { usePagedList } from "./paged-list.ts";

const ROLES: readonly PersonRole[] = ["student", "coach", "admin", "parent"];
const STATUSES: readonly PersonStatus[] = ["active", "deactivated", "deleted"];

/** A new account by hand: name, email, role; its owner gets a welcome mail to choose a password. */
function CreatePerson(props: { onCreated: (person: Person) => void }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<StaffOrStudent>("student");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const { user } = await api<{ user: Person }>("POST", "/api/admin/users", { displayName: name, email, role });
      props.onCreated(user);
      setDone(t("admin.people.created", { name: user.displayName }));
      setName("");
      setEmail("");
    } catch (err) {
      setError(failureText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <details class="card admin-create">
      <summary>{t("admin.people.new")}</summary>
      <form class="form" onSubmit={submit}>
        <div class="row">
          <Field id="person-name" label={t("admin.people.name")}>
            <input id="person-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
          <Field id="person-email" label={t("admin.people.email")}>
            <input id="person-email" type="email" required maxLength={254} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </Field>
          <Field id="person-role" label={t("admin.people.role")}>
            <select id="person-role" value={role} onChange={(e) => setRole(e.currentTarget.value as StaffOrStudent)}>
              {STAFF_OR_STUDENT.map((r) => (
                <option key={r} value={r}>
                  {roleName(r)}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <p class="hint">{t("admin.people.welcomeHint")}</p>
        {error && <NoticeLine kind="error">{error}</NoticeLine>}
        {done && <NoticeLine kind="ok">{done}</NoticeLine>}
        <div>
          <button class="btn btn-primary" type="submit" disabled={busy}>
            {t("admin.people.create")}
          </button>
        </div>
      </form>
    </details>
  );
}

/** One person: role (a select, except for parents and yourself), status, and deactivate / reactivate. */
function PersonRow(props: { person: Person; onChange: (person: Person) => void; onError: (text: string) => void }) {
  const { person } = props;
  const [busy, setBusy] = useState(false);
  const self = person.id === currentUser.value?.id;
  const run = async (method: "POST" | "PATCH", path: string, body?: unknown) => {
    setBusy(true);
    try {
      const { user } = await api<{ user: Person }>(method, `/api/admin/users/${encodeURIComponent(person.id)}${path}`, body);
      props.onChange(user);
    } catch (err) {
      props.onError(failureText(err));
    } finally {
      setBusy(false);
    }
  };
  const roleId = `role-${person.id}`;
  return (
    <tr data-user={person.id} data-status={person.status}>
      <td data-label={t("admin.people.name")}>
        <span class="person-name">{person.displayName}</span>
        {!person.passwordSet && person.status === "active" && <span class="tag">{t("admin.people.noPassword")}</span>}
      </td>
      <td data-label={t("admin.people.email")} class="person-email">
        {person.email ?? "—"}
      </td>
      <td data-label={t("admin.people.role")}>
        {person.role === "parent" || self || person.status === "deleted" ? (
          roleName(person.role)
        ) : (
          <>
            <label for={roleId} class="visually-hidden">
              {t("admin.people.roleOf", { name: person.displayName })}
            </label>
            <select
              id={roleId}
              class="select-small"
              value={person.role}
              disabled={busy}
              onChange={(e) => void run("PATCH", "", { role: e.currentTarget.value })}
            >
              {STAFF_OR_STUDENT.map((r) => (
                <option key={r} value={r}>
                  {roleName(r)}
                </option>
              ))}
            </select>
          </>
        )}
      </td>
      <td data-label={t("admin.people.status")}>
        <span class={`mark status-${person.status}`}>{statusName(person.status)}</span>
        {person.deactivatedAt !== null && person.status === "deactivated" && <span class="hint person-since">{formatDateTime(person.deactivatedAt)}</span>}
      </td>
      <td data-label={t("admin.people.actions")} class="person-actions">
        {self || person.status === "deleted" ? null : person.status === "active" ? (
          <button class="btn btn-small btn-danger" type="button" disabled={busy} onClick={() => void run("POST", "/deactivate")}>
            {t("admin.people.deactivate")}
            <span class="visually-hidden"> {person.displayName}</span>
          </button>
        ) : (
          <button class="btn btn-small" type="button" disabled={busy} onClick={() => void run("POST", "/reactivate")}>
            {t("admin.people.reactivate")}
            <span class="visually-hidden"> {person.displayName}</span>
          </button>
        )}
      </td>
    </tr>
  );
}

/** The institution's people: search by name or email, filter by role and status, page on. */
export function PeoplePage() {
  const [q, setQ] = useState("");
  const [role, setRole] = useState("");
  const [status, setStatus] = useState("");
  const [query, setQuery] = useState({ q: "", role: "", status: "" });
  const [rowError, setRowError] = useState<string | null>(null);
  const list = usePagedList<Person>("users", { ...query, limit: 50 });
  const search = (e: Event) => {
    e.preventDefault();
    setRowError(null);
    setQuery({ q: q.trim(), role, status });
  };
  const replace = (person: Person) => list.setItems((items) => items.map((p) => (p.id === person.id ? person : p)));
  return (
    <AdminPage title={t("admin.people.title")}>
      <CreatePerson onCreated={(person) => list.setItems((items) => [person, ...items.filter((p) => p.id !== person.id)])} />
      <form class="admin-filters" role="search" onSubmit={search}>
        <Field id="people-q" label={t("admin.people.search")}>
          <input id="people-q" type="search" maxLength={100} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        </Field>
        <Field id="people-role" label={t("admin.people.role")}>
          <select id="people-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option value="">{t("admin.all")}</option>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {roleName(r)}
              </option>
            ))}
          </select>
        </Field>
        <Field id="people-status" label={t("admin.people.status")}>
          <select id="people-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">{t("admin.all")}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusName(s)}
              </option>
            ))}
          </select>
        </Field>
        <button class="btn" type="submit">
          {t("admin.people.searchSubmit")}
        </button>
      </form>
      {rowError && <NoticeLine kind="error">{rowError}</NoticeLine>}
      {list.error && <NoticeLine kind="error">{list.error}</NoticeLine>}
      {!list.loading && list.items.length === 0 && !list.error && <NoticeLine kind="note">{t("admin.people.none")}</NoticeLine>}
      {list.items.length > 0 && (
        <table class="board admin-table people">
          <caption class="visually-hidden">{t("admin.people.title")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("admin.people.name")}</th>
              <th scope="col">{t("admin.people.email")}</th>
              <th scope="col">{t("admin.people.role")}</th>
              <th scope="col">{t("admin.people.status")}</th>
              <th scope="col">{t("admin.people.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((person) => (
              <PersonRow key={person.id} person={person} onChange={replace} onError={setRowError} />
            ))}
          </tbody>
        </table>
      )}
      <LoadMore list={list} />
    </AdminPage>
  );
}

/** "Load more" under a paged list, or a loading line while a page is on its way. */
export function LoadMore(props: { list: { loading: boolean; hasMore: boolean; more: () => void } }) {
  if (props.list.loading) return <p class="line line-note">{t("common.loading")}</p>;
  if (!props.list.hasMore) return null;
  return (
    <button class="btn admin-more" type="button" onClick={props.list.more}>
      {t("admin.loadMore")}
    </button>
  );
}
