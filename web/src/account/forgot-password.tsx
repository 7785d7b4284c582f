import { useState } from "preact/hooks";
import { errorMessage, t } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import { AuthCard } from "../ui/auth-card.tsx";
import { Field } from "../ui/field.tsx";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";

/** Asks for a reset link (POST /api/auth/password-reset): the answer is the same whether or not the address has an account. */
export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("POST", "/api/auth/password-reset", { email: email.trim() });
      setSentTo(email.trim());
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (sentTo) {
    return (
      <AuthCard title={t("signup.checkMail")}>
        <p data-testid="check-mail">{t("forgot.sent", { email: sentTo })}</p>
        <Link href="/">{t("account.toSignIn")}</Link>
      </AuthCard>
    );
  }
  return (
    <AuthCard title={t("forgot.title")} onSubmit={submit}>
      <p class="hint">{t("forgot.intro")}</p>
      <Field id="forgot-email" label={t("signin.email")}>
        <input id="forgot-email" type="email" autoComplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      </Field>
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      <button class="btn btn-primary btn-wide" type="submit" disabled={busy}>
        {busy ? t("common.sending") : t("forgot.submit")}
      </button>
      <Link href="/">{t("account.toSignIn")}</Link>
    </AuthCard>
  );
}
