import { useEffect, useRef, useState } from "preact/hooks";
import { num, t } from "../i18n/i18n.ts";
import { api } from "../store/api.ts";
import { Field } from "../ui/field.tsx";
import { Link } from "../ui/link.tsx";
import { NoticeLine } from "../ui/notice-line.tsx";
import { AdminPage } from "./admin-nav.tsx";
import { failureText } from "./admin-api.ts";
import type { ImportReport } from "./admin-types.ts";
import { readReasons } from "./import-reason.ts";
import { RequestError } from "../../../protocol/client.ts";

/** A row's reasons in the reader's language; one the app does not know stays as the server wrote it (in English). */
function Reason(props: { reason: string }) {
  const read = readReasons(props.reason);
  if (!read) return <span lang="en">{props.reason}</span>;
  return <>{read.map((r) => t(r.key, r.params)).join("; ")}</>;
}

const EXAMPLE = "name,email,role,room,coach\nDefne Kaya,defne@example.com,student,11-A Matematik,coach@example.com";

/**
 * CSV import in two steps: a dry run (nothing written) lists every bad row by line and reason;
 * the import button is offered only once a dry run of exactly this text found none. The import
 * itself is all or nothing on the server too.
 */
export function ImportPage() {
  const [csv, setCsv] = useState("");
  const [fileName, setFileName] = useState<string | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [checked, setChecked] = useState<string | null>(null); // the text the clean dry run was for
  const [result, setResult] = useState<ImportReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A file-wide refusal (CSV_INVALID: columns, encoding, quoting) says what is wrong only in the server's message.
  const [detail, setDetail] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // A new report or result takes the focus (and the view), so it is seen and announced at once.
  const reportHeading = useRef<HTMLHeadingElement>(null);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  useEffect(() => reportHeading.current?.focus(), [report]);
  useEffect(() => resultHeading.current?.focus(), [result]);

  const edit = (text: string) => {
    setCsv(text);
    setResult(null);
  };
  const run = async (dryRun: boolean) => {
    setBusy(true);
    setError(null);
    setDetail(null);
    try {
      const { report: answer } = await api<{ report: ImportReport }>("POST", "/api/admin/users/import", { csv, dryRun });
      if (dryRun) {
        setReport(answer);
        setChecked(answer.errors.length === 0 ? csv : null);
        setResult(null);
      } else {
        setResult(answer);
        setReport(null);
        setChecked(null);
      }
    } catch (err) {
      setError(failureText(err));
      setDetail(err instanceof RequestError && err.error.code === "CSV_INVALID" ? err.error.message : null);
      setReport(null);
      setChecked(null);
    } finally {
      setBusy(false);
    }
  };
  const pickFile = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (!file) return;
    setFileName(file.name);
    edit(await file.text());
  };
  const ready = checked !== null && checked === csv;

  return (
    <AdminPage title={t("admin.import.title")}>
      <div class="import-layout">
        <form
          class="card form admin-import"
          onSubmit={(e) => {
            e.preventDefault();
            void run(true);
          }}
        >
          <p class="hint">{t("admin.import.columns")}</p>
          <Field id="import-file" label={t("admin.import.file")} hint={fileName ?? undefined}>
            <input id="import-file" type="file" accept=".csv,text/csv" onChange={(e) => void pickFile(e.currentTarget)} />
          </Field>
          <Field id="import-csv" label={t("admin.import.text")} hint={t("admin.import.example", { example: EXAMPLE.split("\n")[0]! })}>
            <textarea id="import-csv" rows={8} spellcheck={false} wrap="off" class="csv-text" value={csv} onInput={(e) => edit(e.currentTarget.value)} />
          </Field>
          {error && <NoticeLine kind="error">{error}</NoticeLine>}
          {detail && (
            <p class="hint" data-testid="import-detail">
              {t("admin.import.serverSaid", { message: detail })}
            </p>
          )}
          <div class="entry-actions">
            <button class="btn" type="submit" disabled={busy || csv.trim() === ""}>
              {t("admin.import.dryRun")}
            </button>
            <button class="btn btn-primary" type="button" disabled={busy || !ready} onClick={() => void run(false)}>
              {t("admin.import.run")}
            </button>
          </div>
          {!ready && csv.trim() !== "" && !result && <p class="hint">{t("admin.import.dryRunFirst")}</p>}
        </form>

        {report && (
          <section class="admin-report" aria-labelledby="report-title" data-testid="dry-run">
            <h2 id="report-title" class="section-title" tabIndex={-1} ref={reportHeading}>
              {t("admin.import.reportTitle")}
            </h2>
            <p class={report.errors.length ? "line line-error" : "line line-ok"} role="status">
              {report.errors.length
                ? t("admin.import.badRows", { count: report.errors.length, rows: report.rows })
                : t("admin.import.clean", { count: report.rows })}
            </p>
            {report.errors.length > 0 && (
              <table class="board admin-table">
                <caption class="visually-hidden">{t("admin.import.reportTitle")}</caption>
                <thead>
                  <tr>
                    <th scope="col" class="num">
                      {t("admin.import.line")}
                    </th>
                    <th scope="col">{t("admin.import.reason")}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.errors.map((row) => (
                    <tr key={`${row.line}:${row.reason}`} data-line={row.line}>
                      <td class="num">{num(row.line)}</td>
                      <td class="reason">
                        <Reason reason={row.reason} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        )}

        {result && (
          <section class="card admin-result" aria-labelledby="result-title" data-testid="import-result">
            <h2 id="result-title" tabIndex={-1} ref={resultHeading}>
              {t("admin.import.resultTitle")}
            </h2>
            <p class="line line-ok" role="status">
              {t("admin.import.created", { count: result.created })}
            </p>
            <Link href="/admin/people">{t("admin.import.toPeople")}</Link>
          </section>
        )}
      </div>
    </AdminPage>
  );
}
