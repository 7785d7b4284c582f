import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import { createLogger } from "../../server/logger.ts";
import { readReferenceConfig } from "./reference-config.ts";

// The reference cluster primary, the `clusterEntry` the bench hands to startStack: forks
// COACHWIRE_SERVER_PROCESSES copies of bench/reference/server.ts, worker i on COACHWIRE_PORT_BASE + i;
// restarts a worker that dies; on SIGTERM/SIGINT passes SIGTERM on and exits once all have.
// No migrations, no seeding, no drain: the reference has nothing to prepare or hand over.

const RESTART_DELAY_MS = 500;
const HARD_STOP_MS = 10_000;

const config = readReferenceConfig();
const logger = createLogger(config.logLevel).child({ module: "reference-cluster" });

cluster.setupPrimary({ exec: fileURLToPath(new URL("./server.ts", import.meta.url)) });

const workers: Array<Worker | undefined> = Array.from({ length: config.workers }, () => undefined);
let stopping = false;

function fork(index: number): void {
  const port = config.portBase + index;
  const worker = cluster.fork({ COACHWIRE_PORT: String(port) });
  workers[index] = worker;
  worker.on("exit", (code, signal) => {
    workers[index] = undefined;
    if (stopping) return;
    logger.warn({ worker: index, port, code, signal }, "reference server process exited; restarting");
    setTimeout(() => !stopping && fork(index), RESTART_DELAY_MS);
  });
}

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "stopping every reference server process");
  const live = workers.filter((w): w is Worker => w !== undefined && !w.isDead());
  const exited = live.map((w) => new Promise((resolve) => w.once("exit", resolve)));
  for (const w of live) w.process.kill("SIGTERM");
  const hardStop = setTimeout(() => live.forEach((w) => w.process.kill("SIGKILL")), HARD_STOP_MS);
  await Promise.all(exited);
  clearTimeout(hardStop);
  process.exit(0);
}

for (let i = 0; i < config.workers; i++) fork(i);
logger.info({ workers: config.workers, ports: workers.map((_, i) => config.portBase + i) }, "reference cluster started");
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
