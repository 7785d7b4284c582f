import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Db } from "../../db/db.ts";
import { openDb } from "../../db/open.ts";

/**
 * The databases a suite runs against: PGlite always; real PostgreSQL when it answers, and
 * (with TEST_REQUIRE_SERVICES=1, as .ci/run sets) a hard failure when it does not.
 * Every opened database lives in its own fresh schema, dropped by `drop()`.
 */

export const PG_URL = process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";
export const REQUIRE_SERVICES = process.env["TEST_REQUIRE_SERVICES"] === "1";

export interface TestDatabase {
  driver: "pg" | "pglite";
  /** The schema it lives in (pg) — pass as COACHWIRE_DB_SCHEMA to a server process. */
  schema: string | undefined;
  url: string | undefined;
  db: Db;
  /** Opens another handle on the same data (a second "process"); pg only. */
  openAnother(): Promise<Db>;
  drop(): Promise<void>;
}

let pgAvailable: Promise<boolean> | undefined;

/** True when PostgreSQL answers; throws instead when services are required and it does not. */
export function postgresAvailable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return true;
    } catch (err) {
      if (REQUIRE_SERVICES) throw new Error(`PostgreSQL is required (TEST_REQUIRE_SERVICES=1) but ${PG_URL} failed: ${err}`);
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return pgAvailable;
}

const freshSchema = () => `t_${process.pid}_${randomBytes(4).toString("hex")}`;

export async function openPostgres(): Promise<TestDatabase> {
  const schema = freshSchema();
  const db = await openDb({ url: PG_URL, schema, poolSize: 10 });
  const others: Db[] = [];
  return {
    driver: "pg",
    schema,
    url: PG_URL,
    db,
    async openAnother() {
      const other = await openDb({ url: PG_URL, schema, poolSize: 10 });
      others.push(other);
      return other;
    },
    async drop() {
      await Promise.all(others.map((o) => o.close()));
      await db.query(`DROP SCHEMA "${schema}" CASCADE`);
      await db.close();
    },
  };
}

export async function openPgliteMemory(): Promise<TestDatabase> {
  const db = await openDb({ dataDir: "memory://" });
  return {
    driver: "pglite",
    schema: undefined,
    url: undefined,
    db,
    openAnother: () => Promise.reject(new Error("PGlite is one connection in one process")),
    drop: () => db.close(),
  };
}

/** The drivers to run a suite against here: ["pglite"] or ["pglite", "pg"]. */
export async function availableDrivers(): Promise<Array<"pg" | "pglite">> {
  return (await postgresAvailable()) ? ["pglite", "pg"] : ["pglite"];
}

export function openTestDatabase(driver: "pg" | "pglite"): Promise<TestDatabase> {
  return driver === "pg" ? openPostgres() : openPgliteMemory();
}
