import { z } from "zod";

/**
 * Runtime schemas for every payload that crosses the wire. Objects are strict: an unknown key
 * is a shape error, not something silently dropped.
 */

/** Ids of users, rooms and client-chosen message ids: short, URL-safe. */
export const idSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 _ -");
export const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * Where a decoded payload holds U+0000 — `"title"`, `"assignees.2"`, `"payload"` for the value
 * itself; a key counts as its own path — or undefined when it holds none. PostgreSQL text and
 * jsonb cannot store it, so the server refuses it in every input.
 */
export function findNul(value: unknown, path: readonly string[] = [], depth = 0): string | undefined {
  const at = (p: readonly string[]) => (p.length > 0 ? p.join(".") : "payload");
  if (typeof value === "string") return value.includes("\u0000") ? at(path) : undefined;
  if (typeof value !== "object" || value === null || depth > 32) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (key.includes("\u0000")) return at([...path, key]);
    const found = findNul(inner, [...path, key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Largest chat text, in characters. The frame cap (maxHttpBufferSize) bounds bytes as well. */
export const MAX_TEXT_LENGTH = 4000;

export const chatBodySchema = z.strictObject({
  // PostgreSQL's jsonb cannot hold U+0000.
  text: z.string().min(1).max(MAX_TEXT_LENGTH).regex(/^[^\u0000]*$/, "must not contain U+0000"),
});

export const roomJoinSchema = z.strictObject({
  roomId: idSchema,
  since: seqSchema.optional(),
});

/** Most rooms one `rooms:resume` may name (a client with more sends several). */
export const MAX_RESUME_ROOMS = 100;

export const roomsResumeSchema = z
  .strictObject({
    rooms: z.array(z.strictObject({ roomId: idSchema, since: seqSchema.optional() })).min(1).max(MAX_RESUME_ROOMS),
  })
  .refine((v) => new Set(v.rooms.map((r) => r.roomId)).size === v.rooms.length, { message: "each room at most once" });

export const roomLeaveSchema = z.strictObject({
  roomId: idSchema,
});

export const msgSendSchema = z.strictObject({
  roomId: idSchema,
  clientId: idSchema,
  body: chatBodySchema,
});

export const roomHistorySchema = z
  .strictObject({
    roomId: idSchema,
    before: seqSchema.min(1).optional(),
    after: seqSchema.optional(),
    limit: z.number().int().min(1).optional(),
  })
  .refine((v) => v.before === undefined || v.after === undefined, {
    message: "give before or after, not both",
  });

export const typingSchema = z.strictObject({
  roomId: idSchema,
});

const noNul = z.string().regex(/^[^\u0000]*$/, "must not contain U+0000");

export const loginSchema = z.strictObject({
  email: noNul.min(3).max(254),
  password: noNul.min(1).max(1024),
});

export const refreshSchema = z.strictObject({
  refreshToken: noNul.min(16).max(256),
});

export type ChatBody = z.infer<typeof chatBodySchema>;
export type RoomJoinRequest = z.infer<typeof roomJoinSchema>;
export type RoomLeaveRequest = z.infer<typeof roomLeaveSchema>;
export type RoomsResumeRequest = z.infer<typeof roomsResumeSchema>;
export type MsgSendRequest = z.infer<typeof msgSendSchema>;
export type RoomHistoryRequest = z.infer<typeof roomHistorySchema>;
export type TypingRequest = z.infer<typeof typingSchema>;
export type LoginRequest = z.infer<typeof loginSchema>;
export type RefreshRequest = z.infer<typeof refreshSchema>;
