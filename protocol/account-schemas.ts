import { z } from "zod";
import { idSchema } from "./schemas.ts";

/** Request schemas of the accounts routes (server validation; the web app reuses them). */

const email = z.string().trim().max(254).pipe(z.email());
const displayName = z.string().trim().min(1).max(100);
/** Length only: the strength rule (server/accounts/password-policy.ts) answers WEAK_PASSWORD with the reason. */
const password = z.string().min(1).max(1024);
const secretToken = z.string().regex(/^[A-Za-z0-9_-]{20,128}$/, "must be the token from the link");
const staffOrStudent = z.enum(["student", "coach", "admin"]);

export const userCreateSchema = z.strictObject({ email, displayName, role: staffOrStudent });
export const userRoleSchema = z.strictObject({ role: staffOrStudent });
export const userListQuerySchema = z.strictObject({
  role: z.enum(["student", "coach", "admin", "parent"]).optional(),
  status: z.enum(["active", "deactivated", "deleted"]).optional(),
  q: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional(),
});
export const inviteCreateSchema = z.strictObject({ email, role: staffOrStudent, displayName: displayName.optional() });
/** A CSV import as JSON (`text/csv` bodies carry the file itself and `?dryRun=` in the query). */
export const importJsonSchema = z.strictObject({ csv: z.string().min(1), dryRun: z.boolean().default(false) });
export const importQuerySchema = z.strictObject({ dryRun: z.enum(["true", "false", "1", "0"]).default("false").transform((v) => v === "true" || v === "1") });
/** `termsVersion`: the terms the invitee accepts with the account (recorded as their consent; must be the version in force). */
export const inviteAcceptSchema = z.strictObject({
  token: secretToken,
  password: password.optional(),
  displayName: displayName.optional(),
  termsVersion: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be a terms version").optional(),
});
export const tokenOnlySchema = z.strictObject({ token: secretToken });
export const signupSchema = z.strictObject({ code: z.string().trim().toUpperCase().pipe(z.string().regex(/^[A-Z0-9]{8}$/, "must be 8 characters A-Z 0-9")), displayName, email, password });
export const resetRequestSchema = z.strictObject({ email: z.string().min(3).max(254) });
export const resetConfirmSchema = z.strictObject({ token: secretToken, password });
export const passwordChangeSchema = z.strictObject({ currentPassword: password, newPassword: password });
export const userPathSchema = z.strictObject({ userId: idSchema });
export const auditQuerySchema = z.strictObject({
  action: z.string().regex(/^[a-z]+(\.[a-z]+)*$/, "must be an action such as user.deactivate").max(64).optional(),
  actorId: idSchema.optional(),
  targetId: z.string().min(1).max(200).optional(),
  since: z.coerce.number().int().min(0).optional(),
  until: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional(),
});
export const outboxQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional(),
});
