import { useState } from "preact/hooks";
import { formatDateTime, t } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import { Field } from "../ui/field.tsx";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { AdminPage } from "./admin-nav.tsx";
import { failureText } from "./admin-api.ts";
import { STAFF_OR_STUDENT, type StaffOrStudent } from "./admin-types.ts";
import { roleName } from "./admin-words.ts";

interface SentInvite {
  email: string;
  role: StaffOrStudent;
  expiresAt: number;
}

/**
 * Sends invitations. The API has no list of pending invitations (docs/api.md): this page lists
 * the ones sent from it, and the outbox holds every invitation mail with its link.
 */
export function InvitesPage() {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<StaffOrStudent>("coach");
  const [sent, setSent] = useState<SentInvite[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { email, role, ...(name.trim() ? { displayName: name.trim() } : {}) };
      const { invite } = await api<{ invite: SentInvite }>("POST", "/api/admin/invites", body);
      setSent((list) => [invite, ...list]);
      setEmail("");
      setName("");
    } catch (err) {
      setError(failureText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AdminPage title={t("admin.invites.title")}>
      <form class="card form" onSubmit={submit}>
        <div class="row">
          <Field id="invite-email" label={t("admin.people.email")}>
            <input id="invite-email" type="email" required maxLength={254} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </Field>
          <Field id="invite-name" label={t("admin.invites.name")}>
            <input id="invite-name" maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
          <Field id="invite-role" label={t("admin.people.role")}>
            <select id="invite-role" value={role} onChange={(e) => setRole(e.currentTarget.value as StaffOrStudent)}>
              {STAFF_OR_STUDENT.map((r) => (
                <option key={r} value={r}>
                  {roleName(r)}
                </option>
              ))}
            </select>
          </Field>
        </div>
        {error && <NoticeLine kind="error">{error}</NoticeLine>}
        <div>
          <button class="btn btn-primary" type="submit" disabled={busy}>
            {t("admin.invites.send")}
          </button>
        </div>
      </form>
      <h2 class="section-title">{t("admin.invites.sentTitle")}</h2>
      {sent.length === 0 ? (
        <NoticeLine kind="note">{t("admin.invites.noneSent")}</NoticeLine>
      ) : (
        <ul class="notices" aria-live="polite">
          {sent.map((invite) => (
            <li class="card notice" key={`${invite.email}:${invite.expiresAt}`} data-testid="sent-invite">
              <p>{t("admin.invites.sent", { email: invite.email, role: roleName(invite.role) })}</p>
              <p class="notice-time">{t("admin.invites.validUntil", { time: formatDateTime(invite.expiresAt) })}</p>
            </li>
          ))}
        </ul>
      )}
      <p class="hint">
        {t("admin.invites.outboxHint")} <Link href="/admin/outbox">{t("admin.nav.outbox")}</Link>
      </p>
    </AdminPage>
  );
}
