import { useState } from "preact/hooks";
import { errorMessage, t } from "../i18n/i18n.ts";
import { download } from "../store/api.ts";
import { NoticeLine } from "../ui/notice-line.tsx";

/**
 * Everything coachwire holds about the user (GET /api/me/export) as a JSON file. The route
 * needs the bearer token, which a plain link cannot carry, so the file is fetched and handed
 * to the browser as a download.
 */
export function DataExport() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const blob = await download("/api/me/export");
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `coachwire-${new Date().toISOString().slice(0, 10)}.json`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card form" aria-labelledby="export-title">
      <h2 id="export-title">{t("export.title")}</h2>
      <p class="hint">{t("export.intro")}</p>
      {error && <NoticeLine kind="error">{error}</NoticeLine>}
      <button class="btn" type="button" onClick={() => void run()} disabled={busy}>
        {busy ? t("common.loading") : t("export.submit")}
      </button>
    </section>
  );
}
