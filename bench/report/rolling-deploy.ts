import type { Percentiles } from "../percentiles.ts";
import type { ReportedRun } from "./report.ts";

/** The rolling deploy's part of the report: a summary row for the main table, and one table row per step. */

const f = (n: number | null | undefined, digits = 1) => (n == null || Number.isNaN(n) ? "–" : n.toFixed(digits));
const p50p99 = (p: Percentiles) => (p.count === 0 ? "–" : `${f(p.p50)} / ${f(p.p99)} / ${f(p.max)} (${p.count})`);

/** The rolling deploy's rows of the main table, as [name, cell per run]. */
export function rollingDeployRows(runs: ReportedRun[]): Array<[string, (r: ReportedRun) => string]> {
  if (!runs.some((r) => r.rollingDeploy)) return [];
  return [
    [
      "rolling deploy: steps restarted / planned; moved users back / moved",
      (r) => {
        const d = r.rollingDeploy;
        if (!d) return "–";
        const restarted = d.steps.filter((s) => !s.failed).length;
        return `${restarted} / ${d.stepsPlanned}; ${d.steps.reduce((n, s) => n + s.back, 0)} / ${d.steps.reduce((n, s) => n + s.moved, 0)}`;
      },
    ],
  ];
}

/** Each run's step table. */
export function rollingDeploySections(runs: ReportedRun[]): string[] {
  const lines: string[] = [];
  for (const r of runs) {
    const d = r.rollingDeploy;
    if (!d) continue;
    const within = `${f(d.backWithinMs / 1000, 0)} s`;
    lines.push(
      "",
      `## ${r.target} rolling deploy: steps`,
      "",
      `Each step: SIGTERM to the server process, which drains and tells its users to move (\`session:closing\` "server draining"); the cluster starts a new process on its port; ` +
        `the step runs until that port answers /readyz with a new pid, then a settle period. Back: every room of the user rejoined and caught up (the SDK's \`resumed\`), ` +
        "timed from the notice to move. Deliveries are live chat deliveries in the step's window of messages whose sender was connected when sending (catch-up after a reconnect left out); " +
        "p50 / p99 / max ms (count).",
      "",
      `| step | server | pid → new pid | old exited / new ready after SIGTERM (ms) | moved | back / within ${within} / never | back after p50 / p99 / max (ms) | delivery to users not moved | delivery to moved users once back | dropped without notice |`,
      "|---|---|---|---|---|---|---|---|---|---|",
    );
    d.steps.forEach((s, i) =>
      lines.push(
        `| ${i + 1} | ${s.server} | ${s.oldPid ?? "–"} → ${s.newPid ?? "**none**"} | ${f(s.drainedMs, 0)} / ${s.failed ? `**failed**: ${s.failed}` : f(s.restartMs, 0)} | ${s.moved} | ` +
          `${s.back} / ${s.backWithinTarget} / ${s.neverBack} | ${f(s.backMs.p50, 0)} / ${f(s.backMs.p99, 0)} / ${f(s.backMs.max, 0)} | ` +
          `${p50p99(s.notMovedDelivery)} | ${p50p99(s.movedBackDelivery)} | ${s.droppedUntold} |`,
      ),
    );
    if (d.steps.length < d.stepsPlanned) lines.push("", `The deploy stopped after step ${d.steps.length} of ${d.stepsPlanned}.`);
  }
  return lines;
}
