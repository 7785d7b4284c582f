import type { Db, DbOptions } from "./db.ts";
import { migrate } from "./migrate.ts";

/** Opens PostgreSQL when a URL is given, the embedded PGlite otherwise, then applies migrations. */
export async function openDb(options: DbOptions): Promise<Db> {
  const db = options.url
    ? await (await import("./pg.ts")).openPg({ ...options, url: options.url })
    : await (await import("./pglite.ts")).openPglite(options);
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
