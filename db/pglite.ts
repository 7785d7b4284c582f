import { PGlite, types as pgliteTypes } from "@electric-sql/pglite";
import { mkdirSync } from "node:fs";
import { lockDataDir } from "./data-dir-lock.ts";
import type { Db, DbOptions, Queryable, QueryResult } from "./db.ts";

interface PgliteLike {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

function wrap(conn: PgliteLike, sent: { n: number }): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      sent.n++;
      const res = await conn.query<R>(sql, params as unknown[] | undefined);
      // PGlite reports affectedRows 0 for a SELECT; PostgreSQL's rowCount is the rows returned.
      return { rows: res.rows, rowCount: res.affectedRows || res.rows.length };
    },
    async exec(sql: string): Promise<void> {
      sent.n++;
      await conn.exec(sql);
    },
  };
}

/**
 * Opens the embedded PostgreSQL (one WASM instance, so one connection; queries queue). A data
 * directory on disk is locked for this process first (data-dir-lock.ts): a second server on it
 * is refused with DataDirLockedError.
 */
export async function openPglite(options: DbOptions): Promise<Db> {
  const dataDir = options.dataDir ?? "./data";
  let unlock = () => {};
  if (!dataDir.includes("://")) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dataDir, {
      parsers: { [pgliteTypes.INT8]: (value: string) => Number(value) },
    });
  } catch (err) {
    unlock();
    throw err;
  }
  if (options.schema) {
    await pglite.exec(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"; SET search_path TO "${options.schema}"`);
  }
  const sent = { n: 0 };
  const primary = wrap(pglite, sent);
  return {
    driver: "pglite",
    ...primary,
    reader: primary,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      sent.n += 2;
      return pglite.transaction((tx) => fn(wrap(tx, sent)));
    },
    async ping() {
      await pglite.query("SELECT 1");
    },
    poolStats() {
      return { total: 1, idle: 1, waiting: 0, statements: sent.n };
    },
    async close() {
      try {
        await pglite.close();
      } finally {
        unlock();
      }
    },
  };
}
