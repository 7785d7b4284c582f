import { useState } from "preact/hooks";
import { errorMessage, t } from "../i18n/i18n.ts";
import { startSession } from "../session/session.ts";
import { startLive, stopLive } from "../store/live.ts";
import { Field } from "../ui/field.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { NewPasswordFields } from "./password-fields.tsx";

/**
 * Changes the password (POST /api/me/password). The server ends every session of the account,
 * this one's tokens and socket too, and answers a fresh session for this browser: the socket is
 * closed first (its revocation is expected, not a sign-out) and opened again with the new token.
 */
export function PasswordChange({ live }: { live: boolean }) {
  const [current, setCurrent] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [status, setStatus] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const mismatch = repeat !== "" && repeat !== password;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (mismatch || password === "") return setStatus({ kind: "error", text: t("account.mismatch") });
    setBusy(true);
    setStatus(null);
    if (live) stopLive();
    try {
      await startSession("/api/me/password", { currentPassword: current, newPassword: password });
      setCurrent("");
      setPassword("");
      setRepeat("");
      setStatus({ kind: "ok", text: t("password.changed") });
    } catch (err) {
      const code = (err as { error?: { code?: string } }).error?.code;
      setStatus({ kind: "error", text: code === "INVALID_CREDENTIALS" ? t("password.wrongCurrent") : errorMessage(err) });
    } finally {
      setBusy(false);
      if (live) void startLive();
    }
  };

  return (
    <form class="card form" onSubmit={submit} aria-labelledby="password-title" noValidate>
      <h2 id="password-title">{t("password.title")}</h2>
      <Field id="password-current" label={t("password.current")}>
        <input id="password-current" type="password" autoComplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />
      </Field>
      <NewPasswordFields idPrefix="password-new" password={password} repeat={repeat} onPassword={setPassword} onRepeat={setRepeat} mismatch={mismatch} />
      <p class="hint">{t("password.endsSessions")}</p>
      {status && <NoticeLine kind={status.kind}>{status.text}</NoticeLine>}
      <button class="btn btn-primary" type="submit" disabled={busy}>
        {busy ? t("common.sending") : t("password.submit")}
      </button>
    </form>
  );
}
