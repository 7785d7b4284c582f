import { CoachwireError } from "../../protocol/errors.ts";
import type { Queryable } from "../../db/db.ts";

/** At most this many parents per student. */
export const MAX_GUARDIANS = 2;

/**
 * Links a parent to a child inside the caller's transaction. The student's row is locked first,
 * so two parents signing up at once for the same child are counted one after the other and a
 * third is refused (GUARDIAN_LIMIT). Linking a pair again changes nothing.
 */
export async function linkGuardian(tx: Queryable, parentId: string, studentId: string): Promise<void> {
  const student = await tx.query<{ role: string; status: string }>("SELECT role, status FROM users WHERE id = $1 FOR UPDATE", [studentId]);
  if (student.rows[0]?.role !== "student" || student.rows[0].status === "deleted") throw new CoachwireError("LINK_INVALID", "The invite's student no longer exists");
  const existing = await tx.query<{ parent_id: string }>("SELECT parent_id FROM guardianships WHERE student_id = $1", [studentId]);
  if (existing.rows.some((r) => r.parent_id === parentId)) return;
  if (existing.rows.length >= MAX_GUARDIANS) throw new CoachwireError("GUARDIAN_LIMIT");
  await tx.query("INSERT INTO guardianships (parent_id, student_id) VALUES ($1, $2)", [parentId, studentId]);
}
