import { useState } from "preact/hooks";
import { errorMessage, t } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import { AuthCard } from "../ui/auth-card.tsx";
import { Field } from "../ui/field.tsx";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { NewPasswordFields } from "./password-fields.tsx";

/**
 * A student signs up with a room's join code (POST /api/auth/signup). The server answers 202
 * whether or not the address has an account and mails a confirmation link; the account is made
 * only when that link's page is used, so this screen ends on "check your mail".
 */
export function SignUp() {
  const [code, setCode] = useState(() => new URLSearchParams(location.search).get("code")?.toUpperCase() ?? "");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const mismatch = repeat !== "" && repeat !== password;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (mismatch || password === "") return setError(t("account.mismatch"));
    setBusy(true);
    setError(null);
    try {
      const answer = await api<{ email: string }>("POST", "/api/auth/signup", { code: code.trim(), displayName: name.trim(), email: email.trim(), password });
      setSentTo(answer.email);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (sentTo) {
    return (
      <AuthCard title={t("signup.checkMail")}>
        <p data-testid="check-mail">{t("signup.sent", { email: sentTo })}</p>
        <p class="hint">{t("signup.sentHint")}</p>
        <Link href="/">{t("account.toSignIn")}</Link>
      </AuthCard>
    );
  }
  return (
    <AuthCard title={t("signup.title")} onSubmit={submit}>
      <p class="hint">{t("signup.intro")}</p>
      <Field id="signup-code" label={t("join.code")} hint={t("join.hint")}>
        <input id="signup-code" class="code-input" autoComplete="off" autoCapitalize="characters" spellcheck={false} maxLength={8} required aria-describedby="signup-code-hint" value={code} onInput={(e) => setCode(e.currentTarget.value.toUpperCase())} />
      </Field>
      <Field id="signup-name" label={t("account.name")}>
        <input id="signup-name" autoComplete="name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field id="signup-email" label={t("signin.email")}>
        <input id="signup-email" type="email" autoComplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      </Field>
      <NewPasswordFields idPrefix="signup" password={password} repeat={repeat} onPassword={setPassword} onRepeat={setRepeat} mismatch={mismatch} label={t("signin.password")} />
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      <button class="btn btn-primary btn-wide" type="submit" disabled={busy}>
        {busy ? t("common.sending") : t("signup.submit")}
      </button>
      <p class="hint">
        {t("signup.haveAccount")} <Link href="/">{t("account.toSignIn")}</Link>
      </p>
    </AuthCard>
  );
}
