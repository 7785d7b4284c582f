import { useState } from "preact/hooks";
import { errorMessage, t } from "../i18n/i18n.ts";
import { navigate } from "../router.ts";
import { startSession } from "../session/session.ts";
import { AuthCard } from "../ui/auth-card.tsx";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { linkToken } from "./link-token.ts";
import { NewPasswordFields } from "./password-fields.tsx";

/**
 * The page of a mailed reset link (`/reset-password#token=…`) or a new account's first password
 * (`/set-password#token=…`, "welcome"): both set the password with
 * POST /api/auth/password-reset/confirm, which ends every other session and signs in here.
 */
export function ResetPassword({ welcome }: { welcome: boolean }) {
  const [token] = useState(() => linkToken());
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | null>(token ? null : t("error.LINK_INVALID"));
  const [busy, setBusy] = useState(false);
  const mismatch = repeat !== "" && repeat !== password;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!token) return;
    if (mismatch || password === "") return setError(t("account.mismatch"));
    setBusy(true);
    setError(null);
    try {
      await startSession("/api/auth/password-reset/confirm", { token, password });
      navigate("/", true);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <AuthCard title={welcome ? t("reset.welcomeTitle") : t("reset.title")} onSubmit={submit}>
      <p class="hint">{welcome ? t("reset.welcomeIntro") : t("reset.intro")}</p>
      {token && <NewPasswordFields idPrefix="reset" password={password} repeat={repeat} onPassword={setPassword} onRepeat={setRepeat} mismatch={mismatch} />}
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      {token && (
        <button class="btn btn-primary btn-wide" type="submit" disabled={busy}>
          {busy ? t("common.sending") : t("reset.submit")}
        </button>
      )}
      <Link href={token ? "/" : "/forgot-password"}>{token ? t("account.toSignIn") : t("forgot.title")}</Link>
    </AuthCard>
  );
}
