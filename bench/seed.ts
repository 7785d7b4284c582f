import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { Db } from "../db/db.ts";
import { hashPassword } from "../server/auth/passwords.ts";

/** One simulated user: who they are, their token, and their room. */
export interface BenchUser {
  id: string;
  role: "coach" | "student";
  roomId: string;
  token: string;
}

const CHUNK = 5000;

/**
 * Creates `users` users in rooms of `roomSize` (the first of each room its coach) with bulk
 * inserts, and mints their access tokens with the server's secret — no 10,000 scrypt logins.
 * Bench users have no quiet hours (start = end: an empty window), so whether a reminder goes
 * out at once or is held back never depends on the hour the bench runs at.
 */
export async function seedUsers(
  db: Db | undefined,
  options: { users: number; roomSize: number; jwtSecret: string; tokenTtlS: number; runId: string },
): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  const key = new TextEncoder().encode(options.jwtSecret);
  const exp = Math.floor(Date.now() / 1000) + options.tokenTtlS;
  for (let i = 0; i < options.users; i++) {
    const room = Math.floor(i / options.roomSize);
    const role = i % options.roomSize === 0 ? "coach" : "student";
    const id = `b${options.runId}-u${i}`;
    // Bench users live in the demo institution (the users/rooms column default).
    const token = await new SignJWT({ role, inst: "demo" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("coachwire")
      .setSubject(id)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(key);
    users.push({ id, role, roomId: `b${options.runId}-r${room}`, token });
  }
  if (db) await insert(db, users, options.runId);
  return users;
}

async function insert(db: Db, users: BenchUser[], runId: string): Promise<void> {
  const hash = await hashPassword(randomUUID()); // nobody logs in as a bench user
  for (let i = 0; i < users.length; i += CHUNK) {
    const chunk = users.slice(i, i + CHUNK);
    await db.query(
      `INSERT INTO users (id, email, display_name, role, password_hash, quiet_start_min, quiet_end_min)
       SELECT id, id || '@bench.coachwire', id, role, $3, 0, 0 FROM unnest($1::text[], $2::text[]) AS v(id, role)`,
      [chunk.map((u) => u.id), chunk.map((u) => u.role), hash],
    );
  }
  const rooms = [...new Map(users.map((u) => [u.roomId, u])).values()];
  for (let i = 0; i < rooms.length; i += CHUNK) {
    const chunk = rooms.slice(i, i + CHUNK);
    await db.query(
      `INSERT INTO rooms (id, name, created_by) SELECT id, 'bench ' || id, coach FROM unnest($1::text[], $2::text[]) AS v(id, coach)`,
      [chunk.map((u) => u.roomId), chunk.map((u) => u.id)],
    );
  }
  for (let i = 0; i < users.length; i += CHUNK) {
    const chunk = users.slice(i, i + CHUNK);
    await db.query(
      `INSERT INTO memberships (room_id, user_id, role) SELECT r, u, role FROM unnest($1::text[], $2::text[], $3::text[]) AS v(r, u, role)`,
      [chunk.map((u) => u.roomId), chunk.map((u) => u.id), chunk.map((u) => u.role)],
    );
  }
  void runId;
}
