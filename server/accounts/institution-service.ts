import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Db } from "../../db/db.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { Config } from "../config.ts";
import { insertUser } from "./account-store.ts";
import { AuditLog } from "./audit-log.ts";
import { queueWelcome } from "./password-service.ts";

/** A new institution and the one-time link its first admin sets a password with. */
export interface NewInstitution {
  institutionId: string;
  adminId: string;
  /** The set-password link (also queued as a welcome mail). */
  link: string;
  naturalKey: string;
}

const slug = (name: string) =>
  name
    .replace(/ı/g, "i") // Turkish dotless i has no decomposition
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40) || "institution";

/**
 * First-run bootstrap (the `npm run admin -- create-institution` command): an institution and
 * its first admin, in one transaction, with a one-time set-password link. Audited with no actor.
 */
export async function createInstitution(db: Db, config: Config["accounts"], req: { name: string; adminEmail: string; adminName?: string | undefined }): Promise<NewInstitution> {
  const name = req.name.trim();
  if (name.length === 0 || name.length > 200) throw new CoachwireError("VALIDATION_FAILED", "name: 1 to 200 characters");
  if (!z.email().safeParse(req.adminEmail.trim().toLowerCase()).success) throw new CoachwireError("VALIDATION_FAILED", "adminEmail: not an email address");
  const institutionId = `${slug(name)}-${randomBytes(3).toString("hex")}`;
  return db.transaction(async (tx) => {
    await tx.query("INSERT INTO institutions (id, name) VALUES ($1, $2)", [institutionId, name]);
    const admin = await insertUser(tx, { institutionId, email: req.adminEmail, displayName: req.adminName?.trim() || "Admin", role: "admin", passwordHash: null });
    const { link, naturalKey } = await queueWelcome(tx, config, admin);
    await AuditLog.record(tx, { institutionId, actorId: null, action: "institution.create", targetType: "institution", targetId: institutionId, ip: null, details: { adminId: admin.id } });
    return { institutionId, adminId: admin.id, link, naturalKey };
  });
}
