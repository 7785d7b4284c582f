import cluster from "node:cluster";
import { configOrExit } from "./config-or-exit.ts";
import { createLogger } from "./logger.ts";
import { startServer } from "./app.ts";
import { startBanner } from "./banner.ts";
import { seedDemo } from "./demo-seed.ts";
import { openDb } from "../db/open.ts";

// Entry point of one server process: config → database → server → listen; SIGTERM/SIGINT
// drain and exit. Also the entry of each worker forked by cluster.ts (which seeds and prints).

const config = configOrExit();
const logger = createLogger(config.logLevel);
const db = await openDb(config.db);
if (config.demoSeed && cluster.isPrimary) await seedDemo(db);
const server = await startServer(config, { logger, db });
if (cluster.isPrimary) {
  const where = `${db.driver === "pglite" ? `embedded PGlite in ${config.db.dataDir}` : "PostgreSQL"}, ${server.transport} transport`;
  process.stdout.write(startBanner(config, where, `http://localhost:${server.port}`));
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "draining");
  await server.close();
  await db.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
