import type { PerResume } from "../server-counters.ts";
import type { StormMeasurements } from "../storm-phase.ts";
import type { ReportedRun } from "./report.ts";

/** The storm's part of the report: summary rows for the main table, and the round trips per resume. */

const f = (n: number | null | undefined, digits = 1) => (n == null || Number.isNaN(n) ? "–" : n.toFixed(digits));

/** The storm's rows of the main table, as [name, cell per run]. */
export function stormRows(runs: ReportedRun[]): Array<[string, (r: ReportedRun) => string]> {
  if (!runs.some((r) => r.storm)) return [];
  const s = (pick: (s: StormMeasurements) => string) => (r: ReportedRun) => (r.storm ? pick(r.storm) : "–");
  return [
    ["storm: users resumed / connected", s((x) => `${x.resumed} / ${x.users}`)],
    ["storm: fully resumed after the last reconnect attempt (ms)", s((x) => f(x.fullyResumedAfterLastAttemptMs, 0))],
    ["storm: fully resumed after the storm's start (ms) / resume p99 from its start (ms)", s((x) => `${f(x.fullyResumedMs, 0)} / ${f(x.resumeP99Ms, 0)}`)],
    [
      "storm: chat delivery once resumed p50 / p99 / max (ms), count",
      s((x) => (x.postResumeDelivery.count === 0 ? "–" : `${f(x.postResumeDelivery.p50)} / ${f(x.postResumeDelivery.p99)} / ${f(x.postResumeDelivery.max)}, ${x.postResumeDelivery.count}`)),
    ],
    ["storm: server CPU µs per delivered event (T1 → T2)", s((x) => f(x.serverCpuMicrosPerDelivery))],
    ["storm: database statements / Redis commands per resume", s((x) => `${f(x.perResume.dbStatements.perResume)} / ${f(x.perResume.redisCommands.perResume)}`)],
    ["storm: handshakes admitted / refused by admission control (T1 → T2)", s((x) => `${f(x.admission.admitted, 0)} / ${f(x.admission.refused, 0)}`)],
  ];
}

const cells = (p: PerResume) => `${f(p.baseline, 0)} | ${f(p.window, 0)} | ${f(p.perResume)}`;

/** The round-trip table of each storm run: raw counts and per resume, with how they are computed. */
export function stormSections(runs: ReportedRun[]): string[] {
  const lines: string[] = [];
  for (const r of runs) {
    const x = r.storm;
    if (!x) continue;
    lines.push(
      "",
      `## ${r.target} storm: round trips per resume`,
      "",
      `Counted at T0 (baseline start), T1 (storm start, ${f(x.windowsMs.baseline / 1000)} s later) and T2 (measured phase end, ${f(x.windowsMs.storm / 1000)} s after T1); ` +
        `${x.resumesInWindow} resumes between T1 and T2. Per resume = ((T2 − T1 count) − baseline rate × (T2 − T1)) / resumes: ` +
        "everything else the servers (and, for Redis, anything else on the instance) did in the window counts too, beyond the chat-only baseline. – : not counted by this server.",
      "",
      "| counter | T0 → T1 (baseline) | T1 → T2 (storm) | per resume |",
      "|---|---|---|---|",
      `| database statements (coachwire_db_queries_total) | ${cells(x.perResume.dbStatements)} |`,
      `| Redis commands (INFO stats total_commands_processed) | ${cells(x.perResume.redisCommands)} |`,
      `| room:join requests | ${cells(x.perResume.roomJoins)} |`,
      `| rooms:resume requests | ${cells(x.perResume.roomsResumes)} |`,
    );
  }
  return lines;
}
