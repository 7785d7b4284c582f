import type { AuditReport } from "../audit.ts";
import type { RunMeasurements } from "../run.ts";

/** One run as reported: its measurements (less the raw per-client results) and its audit. */
export type ReportedRun = Omit<RunMeasurements, "results"> & { audit: AuditReport };

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
  };
}

const f = (n: number | null | undefined, digits = 1) => (n == null || Number.isNaN(n) ? "–" : n.toFixed(digits));

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
  row("sends / acked / errors", (r) => `${r.sends} / ${r.acks} / ${r.sendErrors}`);
  row("deliveries per second (measured phase)", (r) => f(r.deliveriesPerSecond, 0));
  row("delivery p50 / p99 / p99.9 / max (ms)", (r) => `${f(r.delivery.p50)} / ${f(r.delivery.p99)} / ${f(r.delivery.p999)} / ${f(r.delivery.max)}`);
  row("ack p50 / p99 / p99.9 / max (ms)", (r) => `${f(r.ack.p50)} / ${f(r.ack.p99)} / ${f(r.ack.p999)} / ${f(r.ack.max)}`);
  row("CPU s: server / haproxy / redis / postgres", (r) =>
    ["server", "haproxy", "redis", "postgres"].map((k) => f(r.cpuSeconds[k], 2)).join(" / "),
  );
  row("server CPU µs per delivered event", (r) => f(r.serverCpuMicrosPerDelivery));
  row("server RSS per connection (KB)", (r) => f(r.rss.perConnectionBytes == null ? null : r.rss.perConnectionBytes / 1024));
  row("event-loop lag p99 per server (ms)", (r) => r.eventLoopLagP99Ms.map((v) => f(v)).join(", "));
  row("saturation: max rate that held (sends/s)", (r) => (r.saturation ? `${r.saturation.maxRate}${r.saturation.capped ? " (every step held: the limit is higher)" : ""}` : "–"));
  row("storm: resumed / fully resumed after (ms)", (r) => (r.storm ? `${r.storm.resumed}/${r.storm.users} / ${f(r.storm.fullyResumedMs, 0)}` : "–"));
  row("audit", (r) => (r.audit.ok ? "**lost 0, duplicated 0**" : `**FAILED**: lost ${r.audit.lost}, duplicated ${r.audit.duplicated}, gaps ${r.audit.usersWithGaps}, behind ${r.audit.usersBehind}`));
  if (report.ratios) {
    lines.push("", "## coachwire ÷ reference", "", "| measure | ratio |", "|---|---|");
    for (const [k, v] of Object.entries(report.ratios)) lines.push(`| ${k} | ${f(v, 2)} |`);
  }
  for (const r of report.runs) {
    if (r.saturation) {
      lines.push("", `## ${r.target} saturation steps`, "", "| sends/s | delivery p99 (ms) |", "|---|---|");
      for (const s of r.saturation.steps) lines.push(`| ${s.rate} | ${f(s.p99)} |`);
    }
    if (r.audit.problems.length > 0) lines.push("", `## ${r.target} audit problems (first ${r.audit.problems.length})`, "", ...r.audit.problems.map((p) => `- ${p}`));
  }
  return lines.join("\n") + "\n";
}
