import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import type { Db } from "../../db/db.ts";
import { freePortRun } from "../../server/stack.ts";
import { WEB_DIST } from "../../server/http/static-files.ts";
import { openPostgres, PG_URL, postgresAvailable, REQUIRE_SERVICES, type TestDatabase } from "./databases.ts";

/**
 * The web app as a user gets it: `server/main.ts` in its own process (so a test can SIGKILL it
 * and start it again on the same port), on real PostgreSQL in a fresh schema, serving the built
 * web/dist. Requests from 127.0.0.1 skip the rate limits: several browsers sign in at once.
 */

export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser suites cannot run here, or undefined; under TEST_REQUIRE_SERVICES=1 a missing piece throws. */
export async function missingBrowserServices(): Promise<string | undefined> {
  const missing = !existsSync(CHROMIUM)
    ? `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`
    : !existsSync(`${WEB_DIST}index.html`)
      ? "web/dist is not built (npm run build:web)"
      : !(await postgresAvailable())
        ? `PostgreSQL is not reachable at ${PG_URL}`
        : undefined;
  if (missing && REQUIRE_SERVICES) throw new Error(`required (TEST_REQUIRE_SERVICES=1): ${missing}`);
  return missing;
}

export interface WebApp {
  url: string;
  db: Db;
  /** SIGKILL: no drain, sockets cut. */
  kill(): Promise<void>;
  /** Starts the server process again on the same port and database. */
  start(): Promise<void>;
  /** Stops the process and drops the schema. */
  stop(): Promise<void>;
}

const ROOT = new URL("../..", import.meta.url).pathname;

export async function startWebApp(env: Record<string, string> = {}): Promise<WebApp> {
  const tdb: TestDatabase = await openPostgres();
  const port = await freePortRun(1);
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
      cwd: ROOT,
      stdio: process.env["TEST_STACK_OUTPUT"] === "inherit" ? "inherit" : "ignore",
      env: {
        PATH: process.env["PATH"],
        HOME: process.env["HOME"],
        DATABASE_URL: PG_URL,
        COACHWIRE_DB_SCHEMA: tdb.schema!,
        COACHWIRE_HOST: "127.0.0.1",
        COACHWIRE_PORT: String(port),
        COACHWIRE_DEMO_SEED: "false",
        COACHWIRE_LOG_LEVEL: "warn",
        COACHWIRE_TRUSTED_CIDRS: "127.0.0.0/8,::1/128",
        COACHWIRE_DRAIN_MS: "1000",
        COACHWIRE_READ_FLUSH_MS: "50",
        ...env,
      },
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
      if (ready) return;
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error("server did not become ready");
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    url,
    db: tdb.db,
    kill,
    start,
    async stop() {
      await kill();
      await tdb.drop();
    },
  };
}
