import type { Logger } from "pino";
import type { CoachServer, CoachSocket } from "../realtime/socket-types.ts";
import type { Presence, PresenceEntry } from "./presence.ts";

/**
 * Connects sockets to {@link Presence}: records this process's (connection, room) entries,
 * heartbeats them every third of the TTL, sweeps expired entries (those of a process that died)
 * every half TTL, and broadcasts `presence` when a user comes online in a room or leaves it.
 * Presence is best effort: a Redis error is logged and never fails a join.
 */
export class PresenceTracker {
  private readonly entries = new Map<string, PresenceEntry>();
  private readonly timers: NodeJS.Timeout[];

  constructor(
    private readonly io: CoachServer,
    private readonly presence: Presence,
    ttlMs: number,
    private readonly logger: Logger,
  ) {
    this.timers = [
      setInterval(() => void this.heartbeat(), Math.max(500, ttlMs / 3)),
      setInterval(() => void this.sweep(), Math.max(500, ttlMs / 2)),
    ];
    for (const t of this.timers) t.unref();
  }

  /** A socket joined a room; returns who is online there now. */
  async joined(socket: CoachSocket, roomId: string): Promise<string[]> {
    const entry = { roomId, userId: socket.data.principal.userId, connId: socket.id };
    this.entries.set(`${socket.id}\t${roomId}`, entry);
    try {
      if (await this.presence.join(entry)) this.announce(roomId, entry.userId, true);
      return await this.presence.online(roomId);
    } catch (err) {
      this.logger.warn({ err, roomId }, "presence join failed");
      return [];
    }
  }

  /** A socket left a room (or disconnected). */
  async left(socket: CoachSocket, roomId: string): Promise<void> {
    const key = `${socket.id}\t${roomId}`;
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    try {
      if (await this.presence.leave(entry)) this.announce(roomId, entry.userId, false);
    } catch (err) {
      this.logger.warn({ err, roomId }, "presence leave failed");
    }
  }

  /** Removes every entry of this process (drain): its users are leaving for other processes. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await Promise.all(
      [...this.entries.values()].map((e) =>
        this.presence.leave(e).then(
          (last) => last && this.announce(e.roomId, e.userId, false),
          () => {},
        ),
      ),
    );
    this.entries.clear();
  }

  private announce(roomId: string, userId: string, online: boolean): void {
    this.io.to(roomId).emit("presence", { roomId, userId, online });
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.presence.heartbeat([...this.entries.values()]);
    } catch (err) {
      this.logger.warn({ err }, "presence heartbeat failed");
    }
  }

  private async sweep(): Promise<void> {
    try {
      for (const { roomId, userId } of await this.presence.sweep()) this.announce(roomId, userId, false);
    } catch (err) {
      this.logger.warn({ err }, "presence sweep failed");
    }
  }
}
