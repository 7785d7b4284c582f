import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import type { ReportedRun } from "../../bench/report/report.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/**
 * Runs `npm run bench -- <args>` as a child process (with none of this process's COACHWIRE_
 * settings: the bench configures its own stack), asserts it exited 0 — its output's tail is the
 * failure message — and returns the first run of its report.json, what it printed, and the
 * directory of its reports (removed when the test file ends).
 */
export async function runBenchCli(args: readonly string[]): Promise<{ run: ReportedRun; output: string; dir: string }> {
  const out = mkdtempSync(join(tmpdir(), "coachwire-bench-"));
  after(() => rmSync(out, { recursive: true, force: true }));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("COACHWIRE_")));
  const child = spawn(process.execPath, ["--import", "tsx", "bench/cli.ts", ...args, "--out", out], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, output.slice(-3000));
  const run = (JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as { runs: ReportedRun[] }).runs[0]!;
  return { run, output, dir: out };
}
