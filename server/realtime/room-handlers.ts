import { CoachwireError } from "../../protocol/errors.ts";
import { roomHistorySchema, roomJoinSchema, roomLeaveSchema } from "../../protocol/schemas.ts";
import type { Db } from "../../db/db.ts";
import type { Config } from "../config.ts";
import { coachChannel, isChannel } from "../log/audience.ts";
import { readAfter, readBefore } from "../log/history.ts";
import type { PresenceTracker } from "../presence/presence-tracker.ts";
import type { RoomRegistry } from "../rooms/room-registry.ts";
import type { RequestRouter } from "./request-handler.ts";
import type { CoachSocket } from "./socket-types.ts";

/** What the room handlers need. */
export interface RoomHandlersContext {
  db: Db;
  rooms: RoomRegistry;
  limits: Config["rooms"];
  presence: PresenceTracker;
}

const DEFAULT_HISTORY_LIMIT = 50;

/** A closing connection leaves the presence of every room it had joined. */
export function leavePresenceOnDisconnect(socket: CoachSocket, presence: PresenceTracker): void {
  socket.on("disconnecting", () => {
    for (const roomId of socket.rooms) if (roomId !== socket.id && !isChannel(roomId)) void presence.left(socket, roomId);
  });
}

/** room:join, room:leave and room:history. Every one checks membership first. */
export function roomEvents(router: RequestRouter, ctx: RoomHandlersContext): void {
  router.on("room:join", roomJoinSchema, async ({ roomId, since }, { socket, userId }) => {
    const room = await ctx.rooms.get(roomId).join(userId);
    const head = await ctx.db.query<{ last_seq: number; last_read_seq: number | null }>(
      "SELECT r.last_seq, m.last_read_seq FROM rooms r LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = $2 WHERE r.id = $1",
      [roomId, userId],
    );
    const lastSeq = head.rows[0]?.last_seq ?? 0;
    if (since !== undefined && since > lastSeq) {
      throw new CoachwireError("VALIDATION_FAILED", `since ${since} is beyond the room's last seq ${lastSeq}`);
    }
    // Subscribe before reading the backlog: an event committed in between then arrives both
    // live and in the backlog (the SDK drops the repeat) instead of in neither.
    const role = room.members.find((m) => m.userId === userId)!.role;
    await socket.join(role === "coach" ? [roomId, coachChannel(roomId)] : roomId);
    const online = await ctx.presence.joined(socket, roomId);
    const page =
      since === undefined
        ? await readBefore(ctx.db, roomId, undefined, ctx.limits.joinRecent, { userId, role })
        : await readAfter(ctx.db, roomId, since, ctx.limits.joinBacklogMax, { userId, role });
    return {
      room: { id: room.id, name: room.name, lastSeq },
      members: room.members,
      lastReadSeq: head.rows[0]?.last_read_seq ?? 0,
      events: page.events,
      truncated: since === undefined ? false : page.hasMore,
      online,
    };
  });

  router.on("room:leave", roomLeaveSchema, async ({ roomId }, { socket }) => {
    await socket.leave(roomId);
    await socket.leave(coachChannel(roomId));
    await ctx.presence.left(socket, roomId);
    return {};
  });

  router.on("room:history", roomHistorySchema, async ({ roomId, before, after, limit }, { userId }) => {
    const role = await ctx.rooms.get(roomId).authorize(userId);
    const capped = Math.min(limit ?? DEFAULT_HISTORY_LIMIT, ctx.limits.historyLimitMax);
    return after !== undefined
      ? await readAfter(ctx.db.reader, roomId, after, capped, { userId, role })
      : await readBefore(ctx.db.reader, roomId, before, capped, { userId, role });
  });
}
