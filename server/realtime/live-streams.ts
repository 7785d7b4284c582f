import type { RoomEvent } from "../../protocol/events.ts";
import type { ReadMark } from "../coaching/read-marks.ts";
import type { Broadcaster } from "../log/audience.ts";
import { coachChannel } from "../log/audience.ts";
import type { CommitStream } from "../log/commit-stream.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { PresenceTracker } from "../presence/presence-tracker.ts";
import type { RoomRegistry } from "../rooms/room-registry.ts";
import { roomBroadcaster } from "./broadcaster.ts";
import type { CoachServer } from "./socket-types.ts";

/** The committed streams of a server process that its sockets are shown. */
export interface CommittedStreams {
  events: CommitStream<[RoomEvent[]]>;
  readMarks: CommitStream<[ReadMark[]]>;
  /** A room's members changed (`removedUserId`: who left, if someone did). */
  membership: CommitStream<[roomId: string, removedUserId: string | null]>;
}

/**
 * The realtime layer's side of the committed streams: events go to their rooms through the
 * fan-out's publisher, read marks to the room, and a membership change drops the room's cached
 * members here and on every other process (`shared`), a removed user's sockets leaving the room.
 */
export function showCommitted(
  streams: CommittedStreams,
  deps: { server: CoachServer; publisher: Broadcaster; rooms: RoomRegistry; presence: PresenceTracker; shared: boolean; metrics: Metrics | undefined },
): void {
  const { server, rooms, presence } = deps;
  streams.events.subscribe(roomBroadcaster(deps.publisher, deps.metrics));
  streams.readMarks.subscribe((marks) => marks.forEach((mark) => server.to(mark.roomId).emit("read", mark)));

  async function membershipChanged(roomId: string, removedUserId: string | null): Promise<void> {
    await rooms.invalidate(roomId);
    if (removedUserId === null) return;
    for (const id of server.of("/").adapter.rooms.get(roomId) ?? []) {
      const socket = server.of("/").sockets.get(id);
      if (socket?.data.principal.userId !== removedUserId) continue;
      socket.emit("room:removed", { roomId });
      await socket.leave(roomId);
      await socket.leave(coachChannel(roomId));
      await presence.left(socket, roomId);
    }
  }
  streams.membership.subscribe((roomId, removedUserId) => {
    void membershipChanged(roomId, removedUserId);
    if (deps.shared) server.serverSideEmit("room:membership", roomId, removedUserId);
  });
  server.on("room:membership", (roomId, removedUserId) => void membershipChanged(roomId, removedUserId));
}
