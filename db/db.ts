/**
 * The database seam. Two drivers implement it: `pg.ts` (PostgreSQL through pg's pool, which is
 * pg-pool) and `pglite.ts` (PostgreSQL compiled to WASM, the embedded default). Both speak the
 * same SQL and run the same migrations; `test/db-conformance.test.ts` holds them to one contract.
 */

/** Something that runs parameterised SQL: a pool, a transaction, or a read replica. */
export interface Queryable {
  /** One statement with $1… parameters. bigint columns come back as numbers, timestamptz as Date. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  /** Statements sent to the database since it was opened (each one a round trip; BEGIN and COMMIT count). */
  statements: number;
}

export interface Db extends Queryable {
  readonly driver: "pg" | "pglite";
  /** Runs `fn` inside BEGIN … COMMIT on one connection; rolls back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Where history reads go: the replica pool when one is configured, else the primary. */
  readonly reader: Queryable;
  /** Resolves when the database answers `SELECT 1`. */
  ping(): Promise<void>;
  poolStats(): PoolStats;
  close(): Promise<void>;
}

/** How to open a database; `schema` isolates tests (and tenants) inside one database. */
export interface DbOptions {
  url?: string | undefined;
  replicaUrl?: string | undefined;
  poolSize?: number;
  schema?: string | undefined;
  /** PGlite data directory, or "memory://" for a throwaway one. */
  dataDir?: string;
}
