import { CoachwireError, toWireError } from "../../protocol/errors.ts";
import type { JoinResult, RoomResumeOutcome } from "../../protocol/events.ts";
import { roomHistorySchema, roomJoinSchema, roomLeaveSchema, roomsResumeSchema } from "../../protocol/schemas.ts";
import { catalogError } from "../error-mapping.ts";
import { coachChannel, isChannel } from "../log/audience.ts";
import type { PresenceTracker } from "../presence/presence-tracker.ts";
import type { RoomReads } from "../rooms/room-reads.ts";
import type { RoomRegistry } from "../rooms/room-registry.ts";
import type { RequestRouter } from "./request-handler.ts";
import type { CoachSocket } from "./socket-types.ts";

/** What the room handlers need. */
export interface RoomHandlersContext {
  rooms: RoomRegistry;
  reads: RoomReads;
  presence: PresenceTracker;
}

/** A closing connection's presence in every room it had joined lingers for the grace period (it may be back in a moment). */
export function leavePresenceOnDisconnect(socket: CoachSocket, presence: PresenceTracker): void {
  socket.on("disconnecting", () => {
    for (const roomId of socket.rooms) if (roomId !== socket.id && !isChannel(roomId)) presence.dropped(socket, roomId);
  });
}

/** room:join, rooms:resume, room:leave and room:history. Every one checks membership first. */
export function roomEvents(router: RequestRouter, ctx: RoomHandlersContext): void {
  router.on("room:join", roomJoinSchema, ({ roomId, since }, { socket, userId }) => joinRoom(ctx, socket, userId, roomId, since));

  // Every room of a reconnected client at once: each joined exactly as room:join would, all of
  // them at the same moment, so their reads share the batched queries (server/rooms/join-reads.ts)
  // with each other and with every other socket resuming now. A room refused is refused alone.
  router.on("rooms:resume", roomsResumeSchema, async ({ rooms }, { socket, userId }) => ({
    rooms: await Promise.all(
      rooms.map(({ roomId, since }) =>
        joinRoom(ctx, socket, userId, roomId, since).then(
          (joined): RoomResumeOutcome => ({ roomId, ok: true, ...joined }),
          (err: unknown): RoomResumeOutcome => ({ roomId, ok: false, error: toWireError(catalogError(err)) }),
        ),
      ),
    ),
  }));

  router.on("room:leave", roomLeaveSchema, async ({ roomId }, { socket }) => {
    await socket.leave(roomId);
    await socket.leave(coachChannel(roomId));
    await ctx.presence.left(socket, roomId);
    return {};
  });

  router.on("room:history", roomHistorySchema, ({ roomId, ...q }, { userId }) => ctx.reads.history(userId, roomId, q));
}

/** Joins one room (room:join, or one room of rooms:resume): subscribe, check, then answer its head and backlog. */
async function joinRoom(ctx: RoomHandlersContext, socket: CoachSocket, userId: string, roomId: string, since: number | undefined): Promise<JoinResult> {
  const room = await ctx.rooms.get(roomId).join(userId);
  const cached = room.members.find((m) => m.userId === userId)!.role;
  // Subscribe first, then check the membership in the database: a removal that commits after
  // this check sweeps the room's sockets after it, and so finds this one subscribed; a removal
  // that committed before it is seen here. (Checking first and subscribing after let a removal
  // swept in between miss the socket, which then kept receiving the room.) Subscribing before
  // the backlog is read also means an event committed in between arrives both live and in the
  // backlog (the SDK drops the repeat) instead of in neither.
  const rejoin = socket.rooms.has(roomId);
  await socket.join(cached === "coach" ? [roomId, coachChannel(roomId)] : roomId);
  // The backlog is read beside the head (both batched with every other join of the moment); it
  // is handed out only once the head has confirmed the membership.
  const backlog = ctx.reads.backlog(userId, roomId, since);
  backlog.catch(() => {}); // a failure is thrown below, where it is awaited (or moot if the head failed)
  try {
    const head = await ctx.reads.head(userId, roomId, since);
    const online = await ctx.presence.joined(socket, roomId);
    // Removed while presence was being recorded: the sweep already took the socket out.
    if (!socket.rooms.has(roomId)) {
      await ctx.presence.left(socket, roomId);
      throw new CoachwireError("NOT_A_MEMBER");
    }
    const page = (await backlog)(head.role);
    return {
      room: { id: room.id, name: room.name, lastSeq: head.lastSeq },
      members: room.members,
      lastReadSeq: head.lastReadSeq,
      events: page.events,
      truncated: since === undefined ? false : page.hasMore,
      online,
    };
  } catch (err) {
    // Not (or no longer) a member: out, whatever it joined before. Any other refusal leaves an
    // earlier join of this socket as it was.
    const gone = err instanceof CoachwireError && (err.code === "NOT_A_MEMBER" || err.code === "ROOM_NOT_FOUND");
    if (gone || !rejoin) {
      await socket.leave(roomId);
      await socket.leave(coachChannel(roomId));
    }
    throw err;
  }
}
