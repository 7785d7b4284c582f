import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** CPU and memory of processes, read from /proc (Linux). */

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far; 0 if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Resident memory in bytes; 0 if the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** PIDs whose command name is exactly `name` (e.g. redis-server, postgres, haproxy). */
export function pidsNamed(name: string): number[] {
  try {
    return execFileSync("pgrep", ["-x", name], { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A named group of processes whose CPU is measured together. */
export interface ProcessGroup {
  name: string;
  pids: number[];
}

/** Total CPU seconds per group, for a before/after difference. */
export function sampleCpu(groups: ProcessGroup[]): Record<string, number> {
  return Object.fromEntries(groups.map((g) => [g.name, g.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)]));
}
