import type { BenchReport, ReportedRun } from "./report.ts";
import { toMarkdown } from "./report.ts";

/** A self-contained HTML report: inline SVG charts, no scripts, nothing fetched from the network. */

interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

function lineChart(title: string, unit: string, series: Series[]): string {
  const W = 720;
  const H = 240;
  const pad = { l: 56, r: 12, t: 28, b: 28 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const maxX = Math.max(1, ...xs);
  const maxY = Math.max(1e-9, ...ys) * 1.1;
  const x = (v: number) => pad.l + (v / maxX) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / maxY) * (H - pad.t - pad.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxY);
  const grid = ticks
    .map((v) => `<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="10">${v < 10 ? v.toFixed(1) : v.toFixed(0)}</text>`)
    .join("");
  const lines = series
    .map((s) => {
      const d = s.points.filter((p) => Number.isFinite(p[1])).map((p, i) => `${i === 0 ? "M" : "L"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`;
    })
    .join("");
  const legend = series.map((s, i) => `<text x="${pad.l + i * 160}" y="16" font-size="11" fill="${s.color}">■ ${esc(s.name)}</text>`).join("");
  return `<figure><figcaption>${esc(title)} (${esc(unit)}, x: seconds)</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${grid}${lines}${legend}<text x="${W - pad.r}" y="${H - 8}" text-anchor="end" font-size="10">${maxX.toFixed(0)} s</text></svg></figure>`;
}

function charts(runs: ReportedRun[]): string {
  const per = (pick: (t: ReportedRun["timeline"][number]) => number, suffix: string): Series[] =>
    runs.map((r, i) => ({ name: `${r.target} ${suffix}`, color: COLORS[i % COLORS.length]!, points: r.timeline.map((t) => [t.t, pick(t)]) }));
  return [
    lineChart("Delivery latency p99 over time", "ms", [...per((t) => t.deliveryP99, "p99"), ...per((t) => t.deliveryP50, "p50").map((s, i) => ({ ...s, color: COLORS[(i + 2) % COLORS.length]! }))]),
    lineChart("Ack latency p99 over time", "ms", [
      ...per((t) => t.ackP99, "chat ack p99"),
      ...(runs.some((r) => r.coaching.tasksCreated > 0)
        ? per((t) => t.taskAckP99, "task ack p99").map((s, i) => ({ ...s, color: COLORS[(i + 2) % COLORS.length]! }))
        : []),
    ]),
    lineChart("Open connections", "sockets", per((t) => t.connected, "connected")),
    lineChart("Throughput", "deliveries per second", per((t) => t.deliveriesPerSec, "deliveries/s")),
  ].join("\n");
}

function markdownToHtml(md: string): string {
  const out: string[] = [];
  let table: string[][] | undefined;
  const flush = () => {
    if (!table) return;
    const [head, , ...body] = table;
    out.push(`<table><thead><tr>${head!.map((c) => `<th>${c}</th>`).join("")}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")}</tbody></table>`);
    table = undefined;
  };
  for (const raw of md.split("\n")) {
    const line = esc(raw).replace(/\*\*(.+?)\*\*/g, "<b>$1</b>").replace(/`(.+?)`/g, "<code>$1</code>");
    if (raw.startsWith("|")) {
      (table ??= []).push(line.split("|").slice(1, -1).map((c) => c.trim()));
      continue;
    }
    flush();
    if (raw.startsWith("# ")) out.push(`<h1>${line.slice(2)}</h1>`);
    else if (raw.startsWith("## ")) out.push(`<h2>${line.slice(3)}</h2>`);
    else if (raw.startsWith("- ")) out.push(`<li>${line.slice(2)}</li>`);
    else if (raw.trim()) out.push(`<p>${line}</p>`);
  }
  flush();
  return out.join("\n");
}

/** The HTML report: the Markdown summary as tables, then the charts. */
export function toHtml(report: BenchReport): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>coachwire bench ${esc(report.startedAt)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:4px}code{background:#f4f4f4;padding:1px 4px}</style>
</head><body>
${markdownToHtml(toMarkdown(report))}
<h2>Over time</h2>
${charts(report.runs)}
</body></html>
`;
}
