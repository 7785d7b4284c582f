import type { AuditReport } from "../audit.ts";
import type { NoticeTally } from "../notice-audit.ts";
import type { Percentiles } from "../percentiles.ts";
import type { RunMeasurements } from "../run.ts";
import { rollingDeployRows, rollingDeploySections } from "./rolling-deploy.ts";
import { stormRows, stormSections } from "./storm.ts";

/**
 * One run as reported: its measurements (less the raw per-client results and seqs) and its audit;
 * `coachingSkipped` says why a run left out the scenario's tasks and read receipts.
 */
export type ReportedRun = Omit<RunMeasurements, "results" | "settleSeqs"> & { audit: AuditReport; coachingSkipped?: string };

/** The whole report of one `npm run bench` invocation. */
export interface BenchReport {
  startedAt: string;
  command: string;
  machine: { cpus: number; memoryGiB: number; node: string };
  runs: ReportedRun[];
  /** coachwire ÷ reference, present with --compare reference. */
  ratios?: Record<string, number | null>;
}

const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || b === 0 ? null : a / b);

/** The side-by-side ratios (coachwire ÷ reference). */
export function compareRuns(ours: ReportedRun, ref: ReportedRun): Record<string, number | null> {
  return {
    serverCpuPerDelivery: ratio(ours.serverCpuMicrosPerDelivery, ref.serverCpuMicrosPerDelivery),
    rssPerConnection: ratio(ours.rss.perConnectionBytes, ref.rss.perConnectionBytes),
    deliveryP99: ratio(ours.delivery.p99, ref.delivery.p99),
    ackP99: ratio(ours.ack.p99, ref.ack.p99),
    maxSustainableRate: ratio(ours.saturation?.maxRate, ref.saturation?.maxRate),
    ...(ours.storm && ref.storm
      ? {
          stormServerCpuPerDelivery: ratio(ours.storm.serverCpuMicrosPerDelivery, ref.storm.serverCpuMicrosPerDelivery),
          stormDeliveryP99OnceResumed: ratio(ours.storm.postResumeDelivery.p99, ref.storm.postResumeDelivery.p99),
        }
      : {}),
  };
}

/** What a stepped run's rate counts, and the latency it was held to. */
const STEPPED = {
  chat: { unit: "sends/s", latency: "chat delivery" },
  progress: { unit: "reports/s", latency: "task:progress ack" },
} as const;

const f = (n: number | null | undefined, digits = 1) => (n == null || Number.isNaN(n) ? "–" : n.toFixed(digits));
const spread = (p: Percentiles) => (p.count === 0 ? "–" : `${f(p.p50)} / ${f(p.p99)} / ${f(p.p999)} / ${f(p.max)}`);

/** The coaching part of the audit in one cell: what was checked, and lost/duplicated for it alone. */
function coachingVerdict(r: ReportedRun): string {
  const c = r.audit.coaching;
  if (!c) return r.coachingSkipped ? "– (skipped)" : "– (no database)";
  const checked = `${c.tasksAcked} tasks, ${c.reportsAcked} reports, ${c.duplicatesAnswered}/${c.resent} resends answered duplicate, ${c.assigneesChecked} (task, student) totals (${c.done} done), ${c.readMarksChecked} read marks`;
  const bad = c.lost + c.duplicated + c.mismatches > 0;
  return `${bad ? "**FAILED**" : "**lost 0, duplicated 0**"}${bad ? `: lost ${c.lost}, duplicated ${c.duplicated}, wrong totals/answers ${c.mismatches}` : ""} — ${checked}${c.storedUnacked > 0 ? `; ${c.storedUnacked} unacked calls found stored` : ""}`;
}

/** One figure per notice kind: reminders / nudges / overdue / digests. */
function perKind(r: ReportedRun, pick: (t: NoticeTally) => number): string {
  const n = r.audit.notices;
  return n ? (["reminder", "nudge", "overdue", "digest"] as const).map((k) => pick(n.kinds[k])).join(" / ") : "–";
}

/** The notice part of the audit in one cell. */
function noticeVerdict(r: ReportedRun): string {
  const n = r.audit.notices;
  if (!n) return r.coachingSkipped ? "– (skipped)" : "– (no database)";
  const rc = n.reminders;
  const checked =
    `${rc.found}/${rc.expected} reminders expected found (${rc.windows} windows checked, ${rc.eitherWay} either way, ${rc.notYetDue} not yet due; ` +
    `${rc.afterDone} written after their student's done), ` +
    `${perKind(r, (t) => t.delivered)} delivered to their recipient in full once, of ${perKind(r, (t) => t.awaited)} awaited`;
  const bad = n.lost + n.duplicated + n.mismatches > 0;
  return `${bad ? `**FAILED**: lost ${n.lost}, duplicated ${n.duplicated}, wrong recipient/window/audience ${n.mismatches}` : "**lost 0, duplicated 0**"} — ${checked}`;
}

/** The Markdown summary. */
export function toMarkdown(report: BenchReport): string {
  const lines = [
    `# coachwire bench — ${report.startedAt}`,
    "",
    `Command: \`${report.command}\`  `,
    `Machine: ${report.machine.cpus} cores, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}; server, clients, HAProxy, Redis and PostgreSQL all on it.`,
    "",
    "| | " + report.runs.map((r) => `${r.target} · ${r.scenario}`).join(" | ") + " |",
    "|---|" + report.runs.map(() => "---|").join(""),
  ];
  const row = (name: string, cell: (r: ReportedRun) => string) => lines.push(`| ${name} | ${report.runs.map(cell).join(" | ")} |`);
  row("users / client processes", (r) => `${r.users} / ${r.procs}`);
  row("connections opened / failed", (r) => `${r.connections.opened} / ${r.connections.failed}`);
  row("ramp time (s)", (r) => f(r.connections.rampSeconds));
  row("chat sends / acked / errors", (r) => `${r.sends} / ${r.acks} / ${r.sendErrors}`);
  row("events delivered per second (measured phase)", (r) => f(r.deliveriesPerSecond, 0));
  row("chat delivery p50 / p99 / p99.9 / max (ms)", (r) => spread(r.delivery));
  row("chat ack p50 / p99 / p99.9 / max (ms)", (r) => spread(r.ack));
  const withTasks = report.runs.some((r) => r.coaching.tasksCreated + r.coaching.readMarks > 0 || r.coachingSkipped);
  if (withTasks) {
    row("tasks & read receipts", (r) => (r.coachingSkipped ? `skipped: ${r.coachingSkipped}` : "sent"));
    row("tasks created / errors", (r) => `${r.coaching.tasksCreated} / ${r.coaching.taskErrors}`);
    row("task:seen acked / errors / then left undone", (r) => `${r.coaching.seen} / ${r.coaching.seenErrors} / ${r.coaching.skipped}`);
    row("progress reports acked / errors", (r) => `${r.coaching.reports} / ${r.coaching.reportErrors}`);
    row("reports re-sent (same opId) / answered duplicate with the first seq", (r) => `${r.coaching.resent} / ${r.audit.coaching ? r.audit.coaching.duplicatesAnswered : "–"}`);
    row("read receipts acked / errors", (r) => `${r.coaching.readMarks} / ${r.coaching.readErrors}`);
    row("task & progress ack p50 / p99 / p99.9 / max (ms)", (r) => spread(r.coaching.ack));
    row("notices sent: reminders / nudges / overdue / digests", (r) => perKind(r, (t) => t.sent));
    row("reminder written after its planned time p50 / max (ms)", (r) => {
      const l = r.audit.notices?.reminders.latencyMs;
      return l ? `${f(l.p50, 0)} / ${f(l.max, 0)}` : "–";
    });
  }
  row("CPU s: server / haproxy / redis / postgres", (r) =>
    ["server", "haproxy", "redis", "postgres"].map((k) => f(r.cpuSeconds[k], 2)).join(" / "),
  );
  row("server CPU µs per delivered event", (r) => f(r.serverCpuMicrosPerDelivery));
  row("server RSS per connection (KB)", (r) => f(r.rss.perConnectionBytes == null ? null : r.rss.perConnectionBytes / 1024));
  row("event-loop lag p99 per server (ms)", (r) => r.eventLoopLagP99Ms.map((v) => f(v)).join(", "));
  row("saturation: max rate that held", (r) =>
    r.saturation ? `${r.saturation.maxRate} ${STEPPED[r.saturation.load].unit}${r.saturation.capped ? " (every step held: the limit is higher)" : ""}` : "–",
  );
  for (const [name, cell] of [...stormRows(report.runs), ...rollingDeployRows(report.runs)]) row(name, cell);
  row("audit", (r) =>
    r.audit.ok
      ? "**lost 0, duplicated 0**"
      : `**FAILED**: lost ${r.audit.lost}, duplicated ${r.audit.duplicated}, gaps ${r.audit.usersWithGaps}, behind ${r.audit.usersBehind}` +
        `${r.audit.coaching?.mismatches ? `, wrong totals/answers ${r.audit.coaching.mismatches}` : ""}${r.audit.notices?.mismatches ? `, wrong notices ${r.audit.notices.mismatches}` : ""}`,
  );
  if (withTasks) row("audit of tasks & progress", (r) => coachingVerdict(r));
  if (withTasks) row("audit of notices (reminders / nudges / overdue / digests)", (r) => noticeVerdict(r));
  if (report.ratios) {
    lines.push("", "## coachwire ÷ reference", "", "| measure | ratio |", "|---|---|");
    for (const [k, v] of Object.entries(report.ratios)) lines.push(`| ${k} | ${f(v, 2)} |`);
    if (report.runs.some((r) => r.coachingSkipped)) {
      lines.push("", "Both ran the scenario's chat traffic only: the reference has no tasks or read marks, so coachwire leaves them out too and the ratios compare like with like.");
    }
  }
  lines.push(...stormSections(report.runs), ...rollingDeploySections(report.runs));
  for (const r of report.runs) {
    if (r.saturation) {
      const { unit, latency } = STEPPED[r.saturation.load];
      lines.push("", `## ${r.target} ${r.scenario} steps`, "", `| ${unit} | ${latency} p50 (ms) | p99 (ms) | failed |`, "|---|---|---|---|");
      for (const s of r.saturation.steps) lines.push(`| ${s.rate} | ${f(s.p50)} | ${f(s.p99)} | ${s.errors} |`);
    }
    if (r.audit.problems.length > 0) lines.push("", `## ${r.target} audit problems (first ${r.audit.problems.length})`, "", ...r.audit.problems.map((p) => `- ${p}`));
  }
  return lines.join("\n") + "\n";
}
