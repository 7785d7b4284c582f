import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { startServer } from "./app.ts";
import { DEMO_PASSWORD, DEMO_ROOM_ID, DEMO_USERS, seedDemo } from "./demo-seed.ts";
import { openDb } from "../db/open.ts";

// Entry point: config → database → server → listen; SIGTERM/SIGINT drain and exit.
let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`coachwire: ${err.message}\n`);
  process.exit(78); // EX_CONFIG
}

const logger = createLogger(config.logLevel);
const db = await openDb(config.db);
if (config.demoSeed) await seedDemo(db);
const server = await startServer(config, { logger, db });

if (config.demoSeed) {
  const base = `http://localhost:${server.port}`;
  process.stdout.write(
    [
      "",
      `coachwire is listening on ${base} (${db.driver === "pglite" ? `embedded PGlite in ${config.db.dataDir}` : "PostgreSQL"}, ${server.transport} transport)`,
      `Demo accounts (password "${DEMO_PASSWORD}"), all in room "${DEMO_ROOM_ID}":`,
      ...DEMO_USERS.map((u) => `  ${u.role.padEnd(8)} ${u.email}`),
      "Log in:",
      `  curl -s -X POST ${base}/api/auth/login -H 'content-type: application/json' \\`,
      `       -d '{"email":"${DEMO_USERS[0].email}","password":"${DEMO_PASSWORD}"}'`,
      "",
    ].join("\n") + "\n",
  );
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
