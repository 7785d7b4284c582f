import { z } from "zod";
import { idSchema, seqSchema } from "./schemas.ts";

/**
 * Runtime schemas of the coaching payloads (rooms, members, join codes, subjects, tasks,
 * progress, read marks, deletions), shared by the socket events and the REST routes.
 */

/** PostgreSQL text cannot hold U+0000: refused at the door, never a database error. */
const noNul = <S extends z.ZodString>(s: S) => s.regex(/^[^\u0000]*$/, "must not contain U+0000");
const title = noNul(z.string().trim().min(1).max(200));
const details = noNul(z.string().max(4000));
/**
 * The latest time the server stores: the end of the year 9999 (UTC). PostgreSQL's timestamptz
 * goes further, but a later JavaScript date is written as `+010000-…`, which it cannot read.
 */
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const time = z.number().int().min(0).max(MAX_TIME_MS);
/** A due time: milliseconds since the epoch, or an ISO 8601 date-time with offset; 1970 to the end of 9999. */
const dueAt = z.union([time, z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)).pipe(time)]);
/**
 * The most a count (solved, correct, wrong) can add up to for one assignee, and the most one
 * report may add or take: the columns are int4, and a task without a target has no other bound.
 */
export const MAX_COUNT = 1_000_000;
/** Counts in one progress report. Negative values pass the shape check and are refused with COUNT_OUT_OF_RANGE. */
const countDelta = z.number().int().min(-MAX_COUNT).max(MAX_COUNT);
export const MAX_TARGET = 100_000;

export const roomCreateSchema = z
  .strictObject({
    name: noNul(z.string().trim().min(1).max(100)),
    kind: z.enum(["group", "direct"]).default("group"),
    /** The student of a 1:1 room. */
    studentId: idSchema.optional(),
  })
  .refine((v) => (v.kind === "direct") === (v.studentId !== undefined), {
    message: "a direct room needs studentId, a group room takes none",
  });

export const memberAddSchema = z.strictObject({ userId: idSchema });
/** A room's settings, changed by its coach. */
export const roomUpdateSchema = z.strictObject({
  /** Classmates see each other's task.progress in full (true) or redacted (false, the default). */
  shareProgress: z.boolean(),
});
/** `room:update` over the socket: the same, with the room's id. */
export const roomUpdateEventSchema = roomUpdateSchema.extend({ roomId: idSchema });
export const muteSchema = z.strictObject({ muted: z.boolean() });

export const joinCodeCreateSchema = z.strictObject({
  /** How long the code works: 1 minute to 30 days (default 7 days). */
  ttlSeconds: z.number().int().min(60).max(30 * 86_400).default(7 * 86_400),
  maxUses: z.number().int().min(1).max(10_000).optional(),
});
export const joinCodeRedeemSchema = z.strictObject({ code: z.string().regex(/^[A-Z0-9]{8}$/, "must be 8 characters A-Z 0-9") });

export const subjectCreateSchema = z.strictObject({
  name: noNul(z.string().trim().min(1).max(80)),
  topic: noNul(z.string().trim().min(1).max(80)),
});

export const taskCreateSchema = z.strictObject({
  roomId: idSchema,
  /** Client-chosen id: a retry returns the task the first try created. */
  clientId: idSchema,
  title,
  details: details.default(""),
  subjectId: idSchema.nullable().default(null),
  target: z.number().int().min(1).max(MAX_TARGET).nullable().default(null),
  dueAt: dueAt.nullable().default(null),
  /** "all": every student of the room, including ones who join later; or chosen students. */
  assignees: z.union([z.literal("all"), z.array(idSchema).min(1).max(500)]).default("all"),
  /** Urgent notices skip the assignees' quiet hours. */
  urgent: z.boolean().default(false),
});

export const taskUpdateSchema = z
  .strictObject({
    taskId: idSchema,
    clientId: idSchema,
    title: title.optional(),
    details: details.optional(),
    subjectId: idSchema.nullable().optional(),
    target: z.number().int().min(1).max(MAX_TARGET).nullable().optional(),
    dueAt: dueAt.nullable().optional(),
    urgent: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).some((k) => k !== "taskId" && k !== "clientId"), { message: "change at least one field" });

export const taskCancelSchema = z.strictObject({ taskId: idSchema, clientId: idSchema });
export const taskRefSchema = z.strictObject({ taskId: idSchema });

export const taskProgressSchema = z.strictObject({
  taskId: idSchema,
  /** Operation id chosen by the student's client: a retried report counts once. */
  opId: idSchema,
  /** Questions solved in this report (default correct + wrong). */
  solved: countDelta.optional(),
  correct: countDelta.optional(),
  wrong: countDelta.optional(),
  /** Move the state forward: "started", or "done" (reaching the target also means done). */
  state: z.enum(["started", "done"]).optional(),
});

export const msgReadSchema = z.strictObject({ roomId: idSchema, seq: seqSchema });
export const msgDeleteSchema = z.strictObject({ roomId: idSchema, seq: seqSchema.min(1) });

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24-hour)");

/** A user's notice settings: an IANA time zone and a quiet-hours window in it. */
export const settingsSchema = z
  .strictObject({
    timeZone: z.string().min(1).max(64).refine(isTimeZoneName, "must be an IANA time zone, e.g. Europe/Istanbul").optional(),
    quietHours: z.strictObject({ start: clock, end: clock }).optional(),
  })
  .refine((v) => v.timeZone !== undefined || v.quietHours !== undefined, { message: "change timeZone or quietHours" });

export const noticeQuerySchema = z.strictObject({
  kind: z.enum(["reminder", "nudge", "overdue", "digest"]).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional(),
});

function isTimeZoneName(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** `?limit=&cursor=` of every list endpoint. */
export const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional(),
});

/** What a client sends (defaults not yet filled, due times as number or ISO string). */
export type TaskCreateInput = z.input<typeof taskCreateSchema>;
export type TaskUpdateInput = z.input<typeof taskUpdateSchema>;
export type RoomCreateRequest = z.infer<typeof roomCreateSchema>;
export type RoomUpdateRequest = z.infer<typeof roomUpdateSchema>;
export type RoomUpdateEventRequest = z.infer<typeof roomUpdateEventSchema>;
export type JoinCodeCreateRequest = z.infer<typeof joinCodeCreateSchema>;
export type TaskCreateRequest = z.infer<typeof taskCreateSchema>;
export type TaskUpdateRequest = z.infer<typeof taskUpdateSchema>;
export type TaskCancelRequest = z.infer<typeof taskCancelSchema>;
export type TaskRefRequest = z.infer<typeof taskRefSchema>;
export type TaskProgressRequest = z.infer<typeof taskProgressSchema>;
export type MsgReadRequest = z.infer<typeof msgReadSchema>;
export type MsgDeleteRequest = z.infer<typeof msgDeleteSchema>;
export type PageQuery = z.infer<typeof pageQuerySchema>;
