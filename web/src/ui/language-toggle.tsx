import { locale, setLocale } from "../i18n/i18n.ts";

/** The other language, named in itself ("English" on a Turkish page), for screens shown before sign-in. */
export function LanguageToggle() {
  const other = locale.value === "tr" ? "en" : "tr";
  return (
    <button class="btn btn-quiet btn-small lang-toggle" type="button" lang={other} onClick={() => setLocale(other)}>
      {other === "en" ? "English" : "Türkçe"}
    </button>
  );
}
