import { z } from "zod";

/**
 * Runtime schemas of the parent, privacy and session payloads (guardian invites, parent sign-up,
 * consent), shared by the REST routes and their tests.
 */

const noNul = <S extends z.ZodString>(s: S) => s.regex(/^[^\u0000]*$/, "must not contain U+0000");

/** An emailed token as the client got it in its link. */
export const inviteTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{20,128}$/, "must be the token from the invite link");
export const emailSchema = noNul(z.string().trim().toLowerCase().max(254)).pipe(z.email({ message: "must be an email address" }));
export const displayNameSchema = noNul(z.string().trim().min(1).max(100));
export const termsVersionSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be a terms version");

export const guardianInviteSchema = z.strictObject({
  email: emailSchema,
  /** How the mail greets the parent (optional). */
  displayName: displayNameSchema.optional(),
});

export const guardianSignupSchema = z.strictObject({
  token: inviteTokenSchema,
  displayName: displayNameSchema,
  password: z.string().min(1).max(1024),
  /** The terms version the parent accepted (must be the one in force). */
  termsVersion: termsVersionSchema,
});

export const guardianLinkSchema = z.strictObject({ token: inviteTokenSchema });

export const consentSchema = z.strictObject({ version: termsVersionSchema });

export type GuardianInviteRequest = z.infer<typeof guardianInviteSchema>;
export type GuardianSignupRequest = z.infer<typeof guardianSignupSchema>;
