import type { Db } from "../db/db.ts";
import { hashPassword } from "./auth/passwords.ts";

/** The password of every demo account (the demo is off with NODE_ENV=production). */
export const DEMO_PASSWORD = "coachwire-demo";
export const DEMO_ROOM_ID = "demo-room";

export const DEMO_USERS = [
  { id: "demo-coach", email: "coach@demo.coachwire", displayName: "Coach Ayşe", role: "coach" },
  { id: "demo-student-1", email: "student1@demo.coachwire", displayName: "Student Deniz", role: "student" },
  { id: "demo-student-2", email: "student2@demo.coachwire", displayName: "Student Emre", role: "student" },
  { id: "demo-student-3", email: "student3@demo.coachwire", displayName: "Student Zeynep", role: "student" },
] as const;

/** Creates the demo coach, three students and their room once; returns true if it did. */
export async function seedDemo(db: Db): Promise<boolean> {
  const present = await db.query("SELECT 1 FROM users WHERE id = $1", [DEMO_USERS[0].id]);
  if (present.rows.length > 0) return false;
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  await db.transaction(async (tx) => {
    for (const u of DEMO_USERS) {
      await tx.query(
        // Istanbul time, so quiet hours (22:00–07:00) are the demo users' own nights.
        "INSERT INTO users (id, email, display_name, role, password_hash, time_zone) VALUES ($1, $2, $3, $4, $5, 'Europe/Istanbul') ON CONFLICT DO NOTHING",
        [u.id, u.email, u.displayName, u.role, passwordHash],
      );
    }
    await tx.query(
      "INSERT INTO rooms (id, name, kind, created_by) VALUES ($1, $2, 'group', $3) ON CONFLICT DO NOTHING",
      [DEMO_ROOM_ID, "Demo coaching room", DEMO_USERS[0].id],
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
