import { typingSchema } from "../../protocol/schemas.ts";
import type { RoomRegistry } from "../rooms/room-registry.ts";
import type { CoachServer, CoachSocket } from "./socket-types.ts";

/**
 * `typing`: volatile, no ack. Only a socket that joined the room (membership was checked then)
 * is heard, at most once per `throttleMs` per room; anything else (or a muted member) is dropped silently.
 */
export function registerTypingHandlers(io: CoachServer, socket: CoachSocket, rooms: RoomRegistry, throttleMs: number): void {
  const lastSent = new Map<string, number>();
  socket.on("typing", (payload: unknown) => {
    const parsed = typingSchema.safeParse(payload);
    if (!parsed.success) return;
    const { roomId } = parsed.data;
    if (!socket.rooms.has(roomId) || rooms.get(roomId).isMuted(socket.data.principal.userId)) return;
    const now = Date.now();
    if (now - (lastSent.get(roomId) ?? -Infinity) < throttleMs) return;
    lastSent.set(roomId, now);
    io.to(roomId).volatile.emit("typing", { roomId, userId: socket.data.principal.userId });
  });
}
