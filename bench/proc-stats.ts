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

/** A named group of processes whose CPU is measured together; `refresh` re-lists them (e.g. PostgreSQL backends come and go). */
export interface ProcessGroup {
  name: string;
  pids: number[];
  refresh?: () => number[];
}

/** CPU seconds per process of every group, to be passed to {@link cpuSince}. */
export type CpuSample = Map<string, Map<number, number>>;

export function sampleCpu(groups: ProcessGroup[]): CpuSample {
  return new Map(groups.map((g) => [g.name, new Map((g.refresh?.() ?? g.pids).map((pid) => [pid, cpuSeconds(pid)]))]));
}

/**
 * CPU seconds each group used since `before`: per process, so a process that exited in between
 * does not subtract; one that started in between counts from zero (its whole life was inside).
 */
export function cpuSince(before: CpuSample, groups: ProcessGroup[]): Record<string, number> {
  const after = sampleCpu(groups);
  return Object.fromEntries(
    [...after].map(([name, pids]) => {
      let total = 0;
      for (const [pid, cpu] of pids) total += Math.max(0, cpu - (before.get(name)?.get(pid) ?? 0));
      return [name, total];
    }),
  );
}

/**
 * CPU seconds of process groups from its start, sampled now and then ({@link CpuMeter.sample})
 * so that a process that exits in between (a server process restarted by a rolling deploy)
 * still counts, up to its last sample; one that started in between counts from zero.
 */
export class CpuMeter {
  private readonly base: CpuSample;
  private readonly last: CpuSample;

  constructor(private readonly groups: ProcessGroup[]) {
    this.base = sampleCpu(groups);
    this.last = new Map([...this.base].map(([name, pids]) => [name, new Map(pids)]));
  }

  /** Reads every process of every group now (a gone process keeps its last reading). */
  sample(): void {
    for (const [name, pids] of sampleCpu(this.groups)) {
      const last = this.last.get(name)!;
      for (const [pid, cpu] of pids) if (cpu > 0 || !last.has(pid)) last.set(pid, cpu);
    }
  }

  /** CPU seconds each group used since the meter started, sampling once more now. */
  total(): Record<string, number> {
    this.sample();
    return Object.fromEntries(
      [...this.last].map(([name, pids]) => {
        let total = 0;
        for (const [pid, cpu] of pids) total += Math.max(0, cpu - (this.base.get(name)?.get(pid) ?? 0));
        return [name, total];
      }),
    );
  }
}

/** The pids of a process's children (e.g. a cluster primary's server processes). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A process's parent pid; undefined if it is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}
