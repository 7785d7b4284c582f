import { z } from "zod";
import {
  joinCodeCreateSchema,
  joinCodeRedeemSchema,
  memberAddSchema,
  msgReadSchema,
  muteSchema,
  pageQuerySchema,
  roomCreateSchema,
  roomUpdateSchema,
  subjectCreateSchema,
} from "../../protocol/coaching-schemas.ts";
import { idSchema, seqSchema } from "../../protocol/schemas.ts";
import type { Coaching } from "../coaching/coaching.ts";
import type { RoomReads } from "../rooms/room-reads.ts";
import { authenticatedRoutes, ok, type AuthenticatedContext } from "./authenticated.ts";
import { readJson, readParams, readQuery, type Route } from "./route.ts";

export interface RoomRoutesContext extends AuthenticatedContext {
  coaching: Coaching;
  reads: RoomReads;
}

const roomPath = z.strictObject({ roomId: idSchema });
const memberPath = z.strictObject({ roomId: idSchema, userId: idSchema });
const eventPath = z.strictObject({ roomId: idSchema, seq: z.coerce.number().pipe(seqSchema.min(1)) });
const historyQuery = z
  .strictObject({
    before: z.coerce.number().pipe(seqSchema.min(1)).optional(),
    after: z.coerce.number().pipe(seqSchema).optional(),
    limit: z.coerce.number().int().min(1).optional(),
  })
  .refine((v) => v.before === undefined || v.after === undefined, { message: "give before or after, not both" });

/** Rooms, members, join codes, read marks, history, deletions and the subject catalog over REST. */
export function roomRoutes(ctx: RoomRoutesContext): Route[] {
  const { coaching } = ctx;
  const route = authenticatedRoutes(ctx);
  return [
    route("GET", "/api/rooms", async (req, p) => ok(await coaching.rooms.list(p.userId, readQuery(req, pageQuerySchema)))),
    route("POST", "/api/rooms", async (req, p) => {
      const { room, created } = await coaching.rooms.create(p.userId, p.role, readJson(req, roomCreateSchema));
      return ok({ room, created }, created ? 201 : 200);
    }),
    route("GET", "/api/rooms/:roomId", async (req, p) => ok(await coaching.rooms.get(p.userId, readParams(req, roomPath).roomId))),
    route("PATCH", "/api/rooms/:roomId", async (req, p) => {
      const { roomId } = readParams(req, roomPath);
      return ok(await coaching.rooms.updateSettings(p.userId, roomId, readJson(req, roomUpdateSchema)));
    }),
    route("GET", "/api/rooms/:roomId/events", async (req, p) => ok(await ctx.reads.history(p.userId, readParams(req, roomPath).roomId, readQuery(req, historyQuery)))),
    route("DELETE", "/api/rooms/:roomId/events/:seq", async (req, p) => {
      const { roomId, seq } = readParams(req, eventPath);
      return ok(await coaching.rooms.deleteMessage(p.userId, roomId, seq, req.ip));
    }),
    route("POST", "/api/rooms/:roomId/read", async (req, p) => {
      const { roomId, seq } = readJson(req, msgReadSchema, readParams(req, roomPath));
      return ok({ lastReadSeq: await ctx.reads.markRead(p.userId, roomId, seq) });
    }),
    route("POST", "/api/rooms/:roomId/members", async (req, p) => {
      const { roomId } = readParams(req, roomPath);
      return ok(await coaching.rooms.addMember(p.userId, roomId, readJson(req, memberAddSchema).userId));
    }),
    route("DELETE", "/api/rooms/:roomId/members/:userId", async (req, p) => {
      const { roomId, userId } = readParams(req, memberPath);
      await coaching.rooms.removeMember(p.userId, roomId, userId, req.ip);
      return ok();
    }),
    route("POST", "/api/rooms/:roomId/members/:userId/mute", async (req, p) => {
      const { roomId, userId } = readParams(req, memberPath);
      const { muted } = readJson(req, muteSchema);
      await coaching.rooms.setMuted(p.userId, roomId, userId, muted, req.ip);
      return ok({ muted });
    }),
    route("POST", "/api/rooms/:roomId/join-codes", async (req, p) => {
      const { roomId } = readParams(req, roomPath);
      return ok({ joinCode: await coaching.rooms.createJoinCode(p.userId, roomId, readJson(req, joinCodeCreateSchema, {})) }, 201);
    }),
    route("POST", "/api/join", async (req, p) => ok(await coaching.rooms.redeemJoinCode(p.userId, p.role, readJson(req, joinCodeRedeemSchema).code))),
    route("GET", "/api/subjects", async (req, p) => ok(await coaching.subjects.list(p.institutionId, readQuery(req, pageQuerySchema)))),
    route("POST", "/api/subjects", async (req, p) => ok({ subject: await coaching.subjects.create(p.userId, p.role, p.institutionId, readJson(req, subjectCreateSchema)) }, 201)),
  ];
}
