import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import { openDb } from "../db/open.ts";
import { ConfigError } from "./config.ts";
import { configOrExit, EXIT_REFUSED, orExitIfTaken } from "./config-or-exit.ts";
import { startBanner } from "./banner.ts";
import { seedDemo } from "./demo-seed.ts";
import { createLogger } from "./logger.ts";

// The cluster primary: forks COACHWIRE_SERVER_PROCESSES server processes, process i listening on
// COACHWIRE_PORT_BASE + i so HAProxy can address each one; restarts a crashed worker with
// backoff; forwards SIGTERM/SIGINT so every worker drains, then exits.

const STABLE_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;

const config = configOrExit((c) => {
  if (c.cluster.serverProcesses > 1 && (!c.db.url || !c.redis.url)) {
    throw new ConfigError(
      "invalid configuration:\n  COACHWIRE_SERVER_PROCESSES > 1 needs DATABASE_URL (PGlite is single-process) and REDIS_URL (to share broadcasts and state)",
    );
  }
});
const logger = createLogger(config.logLevel).child({ module: "cluster" });

// Migrate and seed once here, so workers do not race to do it.
const db = await orExitIfTaken(openDb(config.db));
if (config.demoSeed) await seedDemo(db);
await db.close();

cluster.setupPrimary({ exec: fileURLToPath(new URL("./main.ts", import.meta.url)) });

interface Slot {
  index: number;
  worker: Worker | undefined;
  startedAt: number;
  failures: number;
}
const slots: Slot[] = Array.from({ length: config.cluster.serverProcesses }, (_, index) => ({ index, worker: undefined, startedAt: 0, failures: 0 }));
let stopping = false;

function fork(slot: Slot): void {
  slot.startedAt = Date.now();
  const port = config.cluster.portBase + slot.index;
  // With a metrics port of their own, worker i serves /metrics on COACHWIRE_METRICS_PORT + i.
  const metricsPort = config.metricsAccess.port ? { COACHWIRE_METRICS_PORT: String(config.metricsAccess.port + slot.index) } : {};
  const worker = cluster.fork({ COACHWIRE_PORT: String(port), ...metricsPort });
  slot.worker = worker;
  worker.on("exit", (code, signal) => {
    slot.worker = undefined;
    if (stopping) return;
    if (code === EXIT_REFUSED) {
      // Its port or data is taken (or its settings are wrong): a restart would only fail again.
      logger.error({ worker: slot.index, port }, "a server process refused to start; stopping the cluster");
      void shutdown("SIGTERM", EXIT_REFUSED);
      return;
    }
    slot.failures = Date.now() - slot.startedAt > STABLE_MS ? 1 : slot.failures + 1;
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** (slot.failures - 1));
    logger.warn({ worker: slot.index, port, code, signal, restartInMs: delay }, "server process exited; restarting");
    setTimeout(() => !stopping && fork(slot), delay);
  });
}

for (const slot of slots) fork(slot);
const ports = slots.map((s) => config.cluster.portBase + s.index);
process.stdout.write(
  startBanner(config, `${slots.length} server processes on ports ${ports.join(", ")}`, config.publicUrl ?? `http://localhost:${ports[0]}`),
);

async function shutdown(signal: NodeJS.Signals, exitCode = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "stopping: draining every server process");
  const live = slots.flatMap((s) => (s.worker ? [s.worker] : []));
  const exited = live.map((w) => new Promise((resolve) => (w.isDead() ? resolve(null) : w.once("exit", resolve))));
  for (const w of live) w.process.kill("SIGTERM");
  const hardStop = setTimeout(() => live.forEach((w) => w.process.kill("SIGKILL")), config.drain.ms + config.drain.lbWaitMs + 5000);
  await Promise.all(exited);
  clearTimeout(hardStop);
  process.exit(exitCode);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
