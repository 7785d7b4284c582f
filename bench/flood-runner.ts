import { fork } from "node:child_process";
import { setPriority } from "node:os";
import { fileURLToPath } from "node:url";
import type { FloodOrder, FloodOutcome } from "./flood-proc.ts";

const PROC = fileURLToPath(new URL("./flood-proc.ts", import.meta.url));

/**
 * Runs one flood in a process of its own; resolves with what it saw (the child ends itself;
 * killed after 60 s regardless). `nice` lowers its CPU priority: on a small machine the flood's
 * own work would otherwise compete with the server for the same cores, which a real attacker on
 * another machine does not.
 */
export function runFlood(order: FloodOrder, options: { nice?: number } = {}): Promise<FloodOutcome> {
  const child = fork(PROC, [JSON.stringify(order)], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  if (options.nice !== undefined && child.pid !== undefined) setPriority(child.pid, options.nice);
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve, reject) => {
    child.once("message", (msg: FloodOutcome | { error: string }) => ("error" in msg ? reject(new Error(msg.error)) : resolve(msg)));
    child.once("exit", (code) => {
      clearTimeout(killer);
      reject(new Error(`flood process exited (${code}) without an answer`));
    });
  });
}
