import cluster from "node:cluster";
import { configOrExit, orExitIfTaken } from "./config-or-exit.ts";
import { createLogger } from "./logger.ts";
import { startServer } from "./app.ts";
import { startBanner } from "./banner.ts";
import { seedDemo } from "./demo-seed.ts";
import { noteOwnerPort } from "../db/data-dir-lock.ts";
import { openDb } from "../db/open.ts";

// Entry point of one server process: config → database → server → listen; SIGTERM/SIGINT
// drain and exit. Also the entry of each worker forked by cluster.ts (which seeds and prints).

const config = configOrExit();
const logger = createLogger(config.logLevel);

// Listening for the signals before anything starts: a SIGTERM that comes while the server starts
// (e.g. just as the banner is read) must drain it once up, not kill the process by default.
let stopping = false;
let ready!: (close: () => Promise<void>) => void;
const up = new Promise<() => Promise<void>>((resolve) => (ready = resolve));
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "draining");
  const close = await up;
  await close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

const db = await orExitIfTaken(openDb(config.db));
if (config.demoSeed && cluster.isPrimary) await seedDemo(db);
const server = await orExitIfTaken(startServer(config, { logger, db }));
// A second server on the same data directory can then say where this one listens.
if (db.driver === "pglite") noteOwnerPort(config.db.dataDir, server.port);
if (cluster.isPrimary) {
  const where = `${db.driver === "pglite" ? `embedded PGlite in ${config.db.dataDir}` : "PostgreSQL"}, ${server.transport} transport`;
  process.stdout.write(startBanner(config, where, config.publicUrl ?? `http://localhost:${server.port}`));
}

ready(async () => {
  await server.close();
  await db.close();
});
