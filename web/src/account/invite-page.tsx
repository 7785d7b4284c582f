import { useEffect, useState } from "preact/hooks";
import { errorMessage, formatDateTime, t } from "../i18n/i18n.ts";
import type { MessageKey } from "../i18n/en.ts";
import { navigate } from "../router.ts";
import { startSession } from "../session/session.ts";
import { api } from "../store/api.ts";
import { AuthCard } from "../ui/auth-card.tsx";
import { Field } from "../ui/field.tsx";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { linkToken } from "./link-token.ts";
import { NewPasswordFields } from "./password-fields.tsx";

/** What POST /api/invites/preview says a link is for. */
interface InvitePreview {
  email: string;
  role: "student" | "coach" | "admin" | "parent";
  displayName: string | null;
  institution: { id: string; name: string };
  kind: "invite" | "signup";
  guardianOf: string | null;
  guardianOfName: string | null;
  expiresAt: number;
}

/**
 * The page of a mailed `/invite#token=…` link. Three kinds, told apart by the preview:
 * a sign-up confirmation (nothing to choose: this creates the account chosen at sign-up and
 * enters its room), an invitation (choose a name and password), and a guardian invitation
 * (a parent's account: POST /api/parent/signup). Every kind accepts the terms in force.
 */
export function InvitePage() {
  const [token] = useState(() => linkToken());
  const [invite, setInvite] = useState<InvitePreview | null>(null);
  const [terms, setTerms] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [agreed, setAgreed] = useState(false);
  const [error, setError] = useState<string | null>(token ? null : t("error.LINK_INVALID"));
  const [busy, setBusy] = useState(false);
  const mismatch = repeat !== "" && repeat !== password;

  useEffect(() => {
    if (!token) return;
    api<{ invite: InvitePreview }>("POST", "/api/invites/preview", { token }).then(
      (r) => {
        setInvite(r.invite);
        setName(r.invite.displayName ?? "");
      },
      (err) => setError(errorMessage(err)),
    );
    api<{ terms: { version: string } }>("GET", "/api/terms").then(
      (r) => setTerms(r.terms.version),
      (err) => setError(errorMessage(err)),
    );
  }, [token]);

  const signup = invite?.kind === "signup";
  const guardian = invite?.role === "parent";
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!token || !invite || !terms) return;
    if (!agreed) return setError(t("invite.mustAgree"));
    if (!signup && (mismatch || password === "")) return setError(t("account.mismatch"));
    setBusy(true);
    setError(null);
    try {
      if (guardian) {
        await startSession("/api/parent/signup", { token, displayName: name.trim(), password, termsVersion: terms });
        navigate("/", true);
      } else {
        const body = signup ? { token, termsVersion: terms } : { token, password, displayName: name.trim(), termsVersion: terms };
        const answer = await startSession<{ roomId: string | null }>("/api/invites/accept", body);
        navigate(answer.roomId ? `/rooms/${encodeURIComponent(answer.roomId)}` : "/", true);
      }
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  const title = !invite ? t("invite.title") : signup ? t("invite.confirmTitle") : guardian ? t("invite.guardianTitle") : t("invite.title");
  return (
    <AuthCard title={title} onSubmit={submit}>
      {!invite && !error && <p class="line line-note">{t("common.loading")}</p>}
      {invite && (
        <>
          <p data-testid="invite-what">
            {signup
              ? t("invite.confirmIntro", { email: invite.email, institution: invite.institution.name })
              : guardian
                ? invite.guardianOfName
                  ? t("invite.guardianIntroNamed", { email: invite.email, institution: invite.institution.name, child: invite.guardianOfName })
                  : t("invite.guardianIntro", { email: invite.email, institution: invite.institution.name })
                : t("invite.intro", { email: invite.email, institution: invite.institution.name, role: t(`role.${invite.role}` as MessageKey) })}
          </p>
          <p class="hint">{t("invite.expires", { when: formatDateTime(invite.expiresAt) })}</p>
          {!signup && (
            <>
              <Field id="invite-name" label={t("account.name")}>
                <input id="invite-name" autoComplete="name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
              </Field>
              <NewPasswordFields idPrefix="invite" password={password} repeat={repeat} onPassword={setPassword} onRepeat={setRepeat} mismatch={mismatch} />
            </>
          )}
          {terms && (
            <label class="check">
              <input type="checkbox" checked={agreed} onChange={(e) => setAgreed(e.currentTarget.checked)} />
              <span>{t("invite.terms", { version: terms })}</span>
            </label>
          )}
        </>
      )}
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      {invite && (
        <button class="btn btn-primary btn-wide" type="submit" disabled={busy || !terms}>
          {busy ? t("common.sending") : signup ? t("invite.confirmSubmit") : t("invite.submit")}
        </button>
      )}
      <Link href="/">{t("account.toSignIn")}</Link>
    </AuthCard>
  );
}
