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
  /** Leaves still talking to the store; close() waits for them before the connections go. */
  private readonly leaving = new Set<Promise<void>>();

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
    const key = `${socket.id}\t${roomId}`;
    const entry = { roomId, userId: socket.data.principal.userId, connId: socket.id };
    this.entries.set(key, entry);
    try {
      if (await this.presence.join(entry)) this.announce(roomId, entry.userId, true);
      // Disconnected meanwhile: its leave found no entry yet, so leave now (no ghost entry).
      if (!socket.connected) {
        await this.leave(key);
        return [];
      }
      return await this.presence.online(roomId);
    } catch (err) {
      this.logger.warn({ err, roomId }, "presence join failed");
      return [];
    }
  }

  /** A socket left a room (or disconnected). */
  left(socket: CoachSocket, roomId: string): Promise<void> {
    return this.leave(`${socket.id}\t${roomId}`);
  }

  /** Removes every entry of this process (drain) once in-flight leaves are done. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await Promise.all([...this.entries.keys()].map((key) => this.leave(key)));
    await Promise.all(this.leaving);
  }

  private leave(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return Promise.resolve();
    this.entries.delete(key);
    const done = this.presence.leave(entry).then(
      (last) => void (last && this.announce(entry.roomId, entry.userId, false)),
      (err) => this.logger.warn({ err, roomId: entry.roomId }, "presence leave failed"),
    );
    const tracked = done.finally(() => this.leaving.delete(tracked));
    this.leaving.add(tracked);
    return tracked;
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
