import { PGlite, types as pgliteTypes } from "@electric-sql/pglite";
import { mkdirSync } from "node:fs";
import type { Db, DbOptions, Queryable, QueryResult } from "./db.ts";

interface PgliteLike {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

function wrap(conn: PgliteLike): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const res = await conn.query<R>(sql, params as unknown[] | undefined);
      // PGlite reports affectedRows 0 for a SELECT; PostgreSQL's rowCount is the rows returned.
      return { rows: res.rows, rowCount: res.affectedRows || res.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await conn.exec(sql);
    },
  };
}

/** Opens the embedded PostgreSQL (one WASM instance, so one connection; queries queue). */
export async function openPglite(options: DbOptions): Promise<Db> {
  const dataDir = options.dataDir ?? "./data";
  if (!dataDir.includes("://")) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir, {
    parsers: { [pgliteTypes.INT8]: (value: string) => Number(value) },
  });
  if (options.schema) {
    await pglite.exec(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"; SET search_path TO "${options.schema}"`);
  }
  const primary = wrap(pglite);
  return {
    driver: "pglite",
    ...primary,
    reader: primary,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pglite.transaction((tx) => fn(wrap(tx)));
    },
    async ping() {
      await pglite.query("SELECT 1");
    },
    poolStats() {
      return { total: 1, idle: 1, waiting: 0 };
    },
    async close() {
      await pglite.close();
    },
  };
}
