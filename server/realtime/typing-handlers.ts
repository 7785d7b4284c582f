import { typingSchema } from "../../protocol/schemas.ts";
import type { RateLimiter } from "../ratelimit/rate-limiter.ts";
import type { RoomRegistry } from "../rooms/room-registry.ts";
import type { CoachServer, CoachSocket } from "./socket-types.ts";

/** What the typing relay needs from the process. */
export interface TypingContext {
  io: CoachServer;
  rooms: RoomRegistry;
  /** The per-user request budget: every `typing` frame costs one request, like any request event. */
  limiter: RateLimiter;
  /** Sources exempt from the limiter (COACHWIRE_TRUSTED_CIDRS). */
  isTrusted(ip: string): boolean;
  /** At most one relayed `typing` per user and room per this window. */
  throttleMs: number;
}

/**
 * `typing`: volatile, no ack. Each frame is charged to the user's request budget first; then it
 * is heard only from a socket that joined the room, from a member who is not muted (asked of the
 * room's actor, so a mute is seen as soon as its invalidation is), and at most once per
 * `throttleMs` per user and room on this process, however many sockets the user has. Anything
 * else is dropped silently.
 */
export class TypingRelay {
  /** `roomId \n userId` → when their last `typing` went out. */
  private readonly lastSent = new Map<string, number>();
  private sweptAt = 0;

  constructor(private readonly ctx: TypingContext) {}

  /**
   * Listens for this connection's `typing` frames. Through `onAny`, as the request events are
   * (request-handler.ts): Socket.IO calls those listeners as each frame arrives and `on` ones a
   * tick later, so this keeps typing and requests charged to the budget in the order they came.
   */
  attach(socket: CoachSocket): void {
    const limited = !this.ctx.isTrusted(socket.data.ip);
    socket.onAny((event: string, ...args: unknown[]) => {
      if (event === "typing") void this.heard(socket, args[0], limited);
    });
  }

  private async heard(socket: CoachSocket, payload: unknown, limited: boolean): Promise<void> {
    const userId = socket.data.principal.userId;
    if (limited) {
      const decision = await this.ctx.limiter.consume(userId).catch(() => ({ allowed: false }));
      if (!decision.allowed) return;
    }
    const parsed = typingSchema.safeParse(payload);
    if (!parsed.success) return;
    const { roomId } = parsed.data;
    if (!socket.rooms.has(roomId)) return;
    const key = `${roomId}\n${userId}`;
    const now = Date.now();
    if (now - (this.lastSent.get(key) ?? -Infinity) < this.ctx.throttleMs) return;
    // Taken before the membership check, so two sockets of one user cannot both slip through.
    this.lastSent.set(key, now);
    this.forgetOld(now);
    if (!(await this.ctx.rooms.get(roomId).mayType(userId))) return;
    if (!socket.rooms.has(roomId)) return; // removed while we asked
    this.ctx.io.to(roomId).volatile.emit("typing", { roomId, userId });
  }

  /** Keeps the map to the users typing within the window (swept at most once a window, once it grows). */
  private forgetOld(now: number): void {
    if (this.lastSent.size < 10_000 || now - this.sweptAt < this.ctx.throttleMs) return;
    this.sweptAt = now;
    for (const [key, at] of this.lastSent) if (now - at >= this.ctx.throttleMs) this.lastSent.delete(key);
  }
}
