import { randomBytes } from "node:crypto";
import type { Db } from "../../db/db.ts";
import type { UserRole } from "../../server/auth/auth-service.ts";
import { hashPassword } from "../../server/auth/passwords.ts";

/** Rows a test creates directly (tests own their data; these go through plain SQL). */
export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: UserRole;
  institutionId: string;
}

const uid = (prefix: string) => `${prefix}-${randomBytes(5).toString("hex")}`;
let cachedHash: Promise<{ password: string; hash: string }> | undefined;

/** Creates a user; all test users share one password so scrypt runs once per process. */
export async function createUser(db: Db, role: UserRole = "student", institutionId = "demo"): Promise<TestUser> {
  cachedHash ??= (async () => ({ password: "test-password-1", hash: await hashPassword("test-password-1") }))();
  const { password, hash } = await cachedHash;
  const id = uid(role);
  const email = `${id}@test.coachwire`;
  await db.query("INSERT INTO users (id, email, display_name, role, password_hash, institution_id) VALUES ($1, $2, $3, $4, $5, $6)", [
    id,
    email,
    `User ${id}`,
    role,
    hash,
    institutionId,
  ]);
  return { id, email, password, role, institutionId };
}

/** Creates a room with the given members (the first coach among them is its creator). */
export async function createRoom(db: Db, members: TestUser[]): Promise<string> {
  const id = uid("room");
  const coach = members.find((m) => m.role === "coach");
  const institutionId = members[0]?.institutionId ?? "demo";
  await db.query("INSERT INTO rooms (id, name, created_by, institution_id) VALUES ($1, $2, $3, $4)", [id, `Room ${id}`, coach?.id ?? null, institutionId]);
  for (const m of members) {
    await db.query("INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, $3)", [
      id,
      m.id,
      m.role === "coach" ? "coach" : "student",
    ]);
  }
  return id;
}

/** The stored events of a room, in seq order. */
export async function storedEvents(db: Db, roomId: string) {
  const res = await db.query<{ seq: number; client_id: string | null; body: { text?: string } }>(
    "SELECT seq, client_id, body FROM room_events WHERE room_id = $1 ORDER BY seq",
    [roomId],
  );
  return res.rows;
}
