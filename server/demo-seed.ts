import type { Db } from "../db/db.ts";
import { hashPassword } from "./auth/passwords.ts";

/** The password of every demo account (the demo is off with NODE_ENV=production). */
export const DEMO_PASSWORD = "coachwire-demo";
export const DEMO_ROOM_ID = "demo-room";
/** The institution every demo account (and every row written before institutions existed) belongs to. */
export const DEMO_INSTITUTION_ID = "demo";

/** The demo institution's admin: manages its people, reads its audit log; not a room member. */
export const DEMO_ADMIN = { id: "demo-admin", email: "admin@demo.coachwire", displayName: "Admin Selin", role: "admin" } as const;

export const DEMO_USERS = [
  { id: "demo-coach", email: "coach@demo.coachwire", displayName: "Coach Ayşe", role: "coach" },
  { id: "demo-student-1", email: "student1@demo.coachwire", displayName: "Student Deniz", role: "student" },
  { id: "demo-student-2", email: "student2@demo.coachwire", displayName: "Student Emre", role: "student" },
  { id: "demo-student-3", email: "student3@demo.coachwire", displayName: "Student Zeynep", role: "student" },
] as const;

/**
 * Creates the demo admin, coach, three students and their room once; returns true if it did.
 * A data directory seeded before the admin existed gets the admin alone.
 */
export async function seedDemo(db: Db): Promise<boolean> {
  const present = await db.query<{ id: string }>("SELECT id FROM users WHERE id = ANY($1::text[])", [[DEMO_USERS[0].id, DEMO_ADMIN.id]]);
  if (present.rows.length === 2) return false;
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  await db.transaction(async (tx) => {
    for (const u of [DEMO_ADMIN, ...DEMO_USERS]) {
      await tx.query(
        // Istanbul time, so quiet hours (22:00–07:00) are the demo users' own nights.
        "INSERT INTO users (id, email, display_name, role, password_hash, time_zone, institution_id) VALUES ($1, $2, $3, $4, $5, 'Europe/Istanbul', $6) ON CONFLICT DO NOTHING",
        [u.id, u.email, u.displayName, u.role, passwordHash, DEMO_INSTITUTION_ID],
      );
    }
    await tx.query(
      "INSERT INTO rooms (id, name, kind, created_by, institution_id) VALUES ($1, $2, 'group', $3, $4) ON CONFLICT DO NOTHING",
      [DEMO_ROOM_ID, "Demo coaching room", DEMO_USERS[0].id, DEMO_INSTITUTION_ID],
    );
    for (const u of DEMO_USERS) {
      await tx.query("INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [
        DEMO_ROOM_ID,
        u.id,
        u.role === "coach" ? "coach" : "student",
      ]);
    }
  });
  return true;
}
