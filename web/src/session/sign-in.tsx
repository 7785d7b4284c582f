import { useState } from "preact/hooks";
import { RequestError } from "../../../protocol/client.ts";
import { errorText, t } from "../i18n/i18n.ts";
import { Field } from "../ui/field.tsx";
import { LanguageToggle } from "../ui/language-toggle.tsx";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { endReason, signIn } from "./session.ts";

const REASONS: Record<string, () => string> = {
  "signed-out": () => t("signin.signedOut"),
  TOKEN_REVOKED: () => t("signin.revoked"),
  FORBIDDEN: () => t("signin.revoked"),
  TOKEN_EXPIRED: () => t("signin.expired"),
  TOKEN_INVALID: () => t("signin.expired"),
  ACCOUNT_DEACTIVATED: () => t("error.ACCOUNT_DEACTIVATED"),
};

/** The sign-up page, keeping a join code the visitor arrived with (the coach's QR code opens /join?code=…). */
function signUpHref(): string {
  const code = new URLSearchParams(location.search).get("code");
  return code ? `/signup?code=${encodeURIComponent(code)}` : "/signup";
}

/** Email and password; a wrong pair says so without saying which one was wrong. */
export function SignIn() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const reason = endReason.value;

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email, password);
    } catch (err) {
      setError(err instanceof RequestError ? errorText(err.error.code) : errorText("UNAVAILABLE"));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <form class="card signin-card" onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <div class="auth-top">
          <p class="brand" aria-hidden="true">
            coachwire
          </p>
          <LanguageToggle />
        </div>
        <h1 id="signin-title">{t("signin.title")}</h1>
        {reason && REASONS[reason] && <NoticeLine kind="note">{REASONS[reason]!()}</NoticeLine>}
        <Field id="signin-email" label={t("signin.email")}>
          <input id="signin-email" name="email" type="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <Field id="signin-password" label={t("signin.password")}>
          <input
            id="signin-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        {error && <NoticeLine kind="error">{error}</NoticeLine>}
        <button class="btn btn-primary btn-wide" type="submit" disabled={busy}>
          {busy ? t("signin.busy") : t("signin.submit")}
        </button>
        <p class="signin-links">
          <Link href="/forgot-password">{t("signin.forgot")}</Link>
          <Link href={signUpHref()}>{t("signin.signUp")}</Link>
        </p>
        <p class="hint">{t("signin.demoHint")}</p>
      </form>
    </main>
  );
}
