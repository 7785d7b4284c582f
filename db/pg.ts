import pg from "pg";
import type { Db, DbOptions, PoolStats, Queryable, QueryResult } from "./db.ts";

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;

// Per-pool type parsers (not pg.types globally): int8 and int8[] → numbers, as PGlite gives.
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === INT8_ARRAY_OID) {
      const parseArray = pg.types.getTypeParser(INT8_ARRAY_OID as Parameters<typeof pg.types.getTypeParser>[0], "text") as (v: string) => (string | null)[];
      return (value: string) => parseArray(value).map((v) => (v === null ? null : Number(v)));
    }
    return pg.types.getTypeParser(oid, format as "text");
  },
};

/** Statements sent, for PoolStats (the bench divides them by the work done). */
interface Counter {
  n: number;
}

function wrap(client: pg.Pool | pg.PoolClient, sent: Counter): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      sent.n++;
      const res = await client.query(sql, params as unknown[] | undefined);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
    },
    async exec(sql: string): Promise<void> {
      sent.n++;
      await client.query(sql);
    },
  };
}

function makePool(url: string, options: DbOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client's error (server restart, network) must not crash the process; the pool
  // drops that client and the next query opens a fresh one.
  pool.on("error", () => {});
  return pool;
}

/** Opens PostgreSQL through pg's pool (pg-pool), with an optional replica pool for reads. */
export async function openPg(options: DbOptions & { url: string }): Promise<Db> {
  if (options.schema) {
    const admin = new pg.Client({ connectionString: options.url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    } finally {
      await admin.end();
    }
  }
  const pool = makePool(options.url, options);
  const replica = options.replicaUrl ? makePool(options.replicaUrl, options) : undefined;
  const sent: Counter = { n: 0 };
  const primary = wrap(pool, sent);
  return {
    driver: "pg",
    ...primary,
    reader: replica ? wrap(replica, sent) : primary,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        sent.n += 2; // BEGIN, and COMMIT or ROLLBACK
        await client.query("BEGIN");
        const result = await fn(wrap(client, sent));
        // After a failed statement PostgreSQL answers COMMIT with ROLLBACK, not an error.
        const commit = await client.query("COMMIT");
        if (commit.command === "ROLLBACK") throw new Error("the transaction was rolled back instead of committed");
        client.release();
        return result;
      } catch (err) {
        // A failed ROLLBACK means the connection is broken: destroy it instead of reusing it.
        await client.query("ROLLBACK").then(
          () => client.release(),
          (rollbackErr: Error) => client.release(rollbackErr),
        );
        throw err;
      }
    },
    async ping() {
      await pool.query("SELECT 1");
    },
    poolStats(): PoolStats {
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, statements: sent.n };
    },
    async close() {
      await Promise.all([pool.end(), replica?.end()]);
    },
  };
}
