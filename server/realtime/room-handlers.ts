import { CoachwireError } from "../../protocol/errors.ts";
import { roomHistorySchema, roomJoinSchema, roomLeaveSchema } from "../../protocol/schemas.ts";
import type { MemberRole } from "../../protocol/events.ts";
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
    const cached = room.members.find((m) => m.userId === userId)!.role;
    // Subscribe first, then check the membership in the database: a removal that commits after
    // this check sweeps the room's sockets after it, and so finds this one subscribed; a removal
    // that committed before it is seen here. (Checking first and subscribing after let a removal
    // swept in between miss the socket, which then kept receiving the room.) Subscribing before
    // the backlog is read also means an event committed in between arrives both live and in the
    // backlog (the SDK drops the repeat) instead of in neither.
    const rejoin = socket.rooms.has(roomId);
    await socket.join(cached === "coach" ? [roomId, coachChannel(roomId)] : roomId);
    try {
      const head = await ctx.db.query<{ last_seq: number; role: MemberRole | null; last_read_seq: number | null }>(
        "SELECT r.last_seq, m.role, m.last_read_seq FROM rooms r LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = $2 WHERE r.id = $1",
        [roomId, userId],
      );
      const row = head.rows[0];
      if (!row) throw new CoachwireError("ROOM_NOT_FOUND");
      if (row.role === null) throw new CoachwireError("NOT_A_MEMBER");
      const lastSeq = row.last_seq;
      if (since !== undefined && since > lastSeq) {
        throw new CoachwireError("VALIDATION_FAILED", `since ${since} is beyond the room's last seq ${lastSeq}`);
      }
      const role = row.role;
      const online = await ctx.presence.joined(socket, roomId);
      // Removed while presence was being recorded: the sweep already took the socket out.
      if (!socket.rooms.has(roomId)) {
        await ctx.presence.left(socket, roomId);
        throw new CoachwireError("NOT_A_MEMBER");
      }
      const page =
        since === undefined
          ? await readBefore(ctx.db, roomId, undefined, ctx.limits.joinRecent, { userId, role })
          : await readAfter(ctx.db, roomId, since, ctx.limits.joinBacklogMax, { userId, role });
      return {
        room: { id: room.id, name: room.name, lastSeq },
        members: room.members,
        lastReadSeq: row.last_read_seq ?? 0,
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
