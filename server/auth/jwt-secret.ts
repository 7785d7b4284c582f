import { randomBytes } from "node:crypto";
import type { Queryable } from "../../db/db.ts";

const NAME = "jwt";

/**
 * This installation's own JWT signing secret, for when COACHWIRE_JWT_SECRET is not set: made
 * at random by the first server that starts on the database and kept in `server_secrets`
 * (migration 007). Every process on the same database (a cluster, a restart) reads the same
 * one; the insert that loses a race changes nothing.
 */
export async function installationJwtSecret(db: Queryable): Promise<string> {
  await db.query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [
    NAME,
    randomBytes(48).toString("base64url"),
  ]);
  const secret = await storedJwtSecret(db);
  if (!secret) throw new Error("server_secrets has no JWT secret after inserting one");
  return secret;
}

/** The generated secret if one has been made (tools that sign tokens for a running server: the bench). */
export async function storedJwtSecret(db: Queryable): Promise<string | undefined> {
  const found = await db.query<{ value: string }>("SELECT value FROM server_secrets WHERE name = $1", [NAME]);
  return found.rows[0]?.value;
}
