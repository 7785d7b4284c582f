import { useEffect, useMemo, useState } from "preact/hooks";
import { RequestError } from "../../../protocol/client.ts";
import { errorText, locale, setLocale, t } from "../i18n/i18n.ts";
import { LOCALES, type Locale } from "../i18n/translate.ts";
import { Field } from "../ui/field.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { Page } from "../ui/page.tsx";
import { saveSettings, settings } from "./settings-store.ts";
import { DataExport } from "../account/data-export.tsx";
import { PasswordChange } from "../account/password-change.tsx";
import { currentUser } from "../session/session.ts";
import { Link } from "../ui/link.tsx";

const LANGUAGE_NAMES: Record<Locale, string> = { tr: "Türkçe", en: "English" };

/**
 * Language (kept in this browser), time zone and quiet hours (kept on the server); below them
 * the account: password change, the sessions list and the data export.
 */
export function SettingsPage() {
  const current = settings.value;
  const [zone, setZone] = useState(current?.timeZone ?? "");
  const [start, setStart] = useState(current?.quietHours.start ?? "22:00");
  const [end, setEnd] = useState(current?.quietHours.end ?? "07:00");
  const [status, setStatus] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  useEffect(() => {
    if (!current) return;
    setZone(current.timeZone);
    setStart(current.quietHours.start);
    setEnd(current.quietHours.end);
  }, [current]);
  const zones = useMemo(() => {
    const all = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    return all.includes("UTC") ? all : ["UTC", ...all];
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setStatus(null);
    try {
      await saveSettings({ timeZone: zone, quietHours: { start, end } });
      setStatus({ kind: "ok", text: t("settings.saved") });
    } catch (err) {
      setStatus({ kind: "error", text: err instanceof RequestError ? errorText(err.error.code) : errorText("INTERNAL") });
    }
  };

  return (
    <Page title={t("settings.title")}>
      <div class="settings">
      <form class="card form" onSubmit={submit} aria-labelledby="prefs-title">
        <h2 id="prefs-title">{t("settings.preferences")}</h2>
        <Field id="settings-language" label={t("settings.language")} hint={t("settings.languageHint")}>
          <select id="settings-language" value={locale.value} onChange={(e) => setLocale(e.currentTarget.value as Locale)}>
            {LOCALES.map((l) => (
              <option key={l} value={l}>
                {LANGUAGE_NAMES[l]}
              </option>
            ))}
          </select>
        </Field>
        <Field id="settings-zone" label={t("settings.timeZone")}>
          <select id="settings-zone" value={zone} onChange={(e) => setZone(e.currentTarget.value)}>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </Field>
        <fieldset class="row">
          <legend>{t("settings.quietHours")}</legend>
          <Field id="settings-quiet-start" label={t("settings.quietStart")}>
            <input id="settings-quiet-start" type="time" required value={start} onInput={(e) => setStart(e.currentTarget.value)} />
          </Field>
          <Field id="settings-quiet-end" label={t("settings.quietEnd")}>
            <input id="settings-quiet-end" type="time" required value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
          </Field>
        </fieldset>
        <p class="hint">{t("settings.quietHint")}</p>
        {status && <NoticeLine kind={status.kind}>{status.text}</NoticeLine>}
        <button class="btn btn-primary" type="submit">
          {t("settings.save")}
        </button>
      </form>
      <PasswordChange live={currentUser.value?.role !== "parent"} />
      <section class="card form" aria-labelledby="sessions-title">
        <h2 id="sessions-title">{t("sessions.title")}</h2>
        <p class="hint">{t("sessions.teaser")}</p>
        <Link href="/settings/sessions" class="btn">
          {t("sessions.open")}
        </Link>
      </section>
      <DataExport />
      </div>
    </Page>
  );
}
