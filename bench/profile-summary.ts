import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Summarises V8 CPU profiles (`--cpu-prof`, what `npm run bench -- --profile DIR` writes for every
 * server process): where a process's CPU time went, by area of the code (a coachwire folder, or a
 * dependency) and by function, self time only. `npm run bench:profile -- DIR [--top N]`.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Wall time the profile covers, and the time its samples were busy (not idle), in ms. */
  wallMs: number;
  busyMs: number;
  /** Self time by area, ms, largest first. */
  areas: Array<[area: string, ms: number]>;
  /** Self time by function, ms, largest first. */
  functions: Array<[fn: string, ms: number]>;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The area a frame belongs to: a dependency by package name, coachwire's code by its folder, V8's own by name. */
export function areaOf(url: string, functionName: string): string {
  if (url === "") {
    if (functionName === "(idle)") return "(idle)";
    if (functionName === "(garbage collector)") return "(gc)";
    if (functionName === "(program)") return "(program)";
    return "(native)";
  }
  const path = url.replace(/^file:\/\//, "");
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1]!;
  if (path.startsWith("node:")) return `node:${path.slice(5).split("/")[0]}`;
  const rel = relative(ROOT, path);
  if (!rel.startsWith("..")) return rel.split("/").slice(0, 2).join("/");
  return path;
}

/** Self time per node (the samples' time deltas), summed by area and by function. */
export function summarise(file: string, profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let idle = 0;
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const area = areaOf(url, functionName);
    if (area === "(idle)") idle += micros;
    areas.set(area, (areas.get(area) ?? 0) + micros);
    const where = url ? `${areaOf(url, functionName)}:${lineNumber + 1}` : "";
    const fn = `${functionName || "(anonymous)"} ${where}`.trim();
    functions.set(fn, (functions.get(fn) ?? 0) + micros);
  }
  const sorted = (m: Map<string, number>) => [...m].map(([k, v]): [string, number] => [k, v / 1000]).sort((a, b) => b[1] - a[1]);
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  return { file, wallMs, busyMs: wallMs - idle / 1000, areas: sorted(areas), functions: sorted(functions) };
}

/** A summary as Markdown: busy time, then the areas and the top functions with their share of busy time. */
export function summaryMarkdown(s: ProfileSummary, top: number): string {
  const pct = (ms: number) => ((ms / s.busyMs) * 100).toFixed(1);
  const rows = (list: Array<[string, number]>) =>
    list
      .filter(([k]) => k !== "(idle)" && !k.startsWith("(idle)"))
      .slice(0, top)
      .map(([k, ms]) => `| ${k.replace(/\|/g, "\\|")} | ${ms.toFixed(0)} | ${pct(ms)} % |`)
      .join("\n");
  return [
    `### ${s.file}`,
    "",
    `Profiled ${(s.wallMs / 1000).toFixed(1)} s, busy ${(s.busyMs / 1000).toFixed(1)} s (self time; idle left out).`,
    "",
    "| area | ms | of busy |",
    "|---|---|---|",
    rows(s.areas),
    "",
    "| function | ms | of busy |",
    "|---|---|---|",
    rows(s.functions),
    "",
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith("--"));
  const topAt = args.indexOf("--top");
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  if (!dir) {
    process.stderr.write("usage: npm run bench:profile -- DIR [--top N]   (the .cpuprofile files in DIR, recursively)\n");
    process.exit(2);
  }
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".cpuprofile"));
  for (const f of files.sort()) {
    const profile = JSON.parse(readFileSync(join(dir, f), "utf8")) as CpuProfile;
    process.stdout.write(summaryMarkdown(summarise(f, profile), top) + "\n");
  }
}
