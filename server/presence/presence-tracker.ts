import type { Logger } from "pino";
import type { CoachServer, CoachSocket } from "../realtime/socket-types.ts";
import type { Presence, PresenceEntry } from "./presence.ts";

/** How the tracker keeps presence: the store's TTL, the grace after a drop, and the batching of its writes. */
export interface PresenceTrackerOptions {
  ttlMs: number;
  /** A dropped connection stays live this long (0: it leaves at once). */
  graceMs: number;
  /** Joins and drops wait this long to go to the store together (one round trip). */
  batchMs: number;
}

interface PendingJoin {
  socket: CoachSocket;
  key: string;
  entry: PresenceEntry;
  resolve(online: string[]): void;
}

/**
 * Connects sockets to {@link Presence}: records this process's (connection, room) entries,
 * heartbeats them every third of the TTL, sweeps expired entries (those of a process that died,
 * and dropped connections whose grace ran out) every half TTL, and broadcasts `presence` when a
 * user comes online in a room or leaves it. Built for reconnect storms:
 * - a dropped connection lingers `graceMs` instead of leaving, so a user who is back within it
 *   (a network blip, a drain moving them to another process) is announced neither offline nor
 *   online again — a storm of 10,000 reconnects announces nothing;
 * - joins and drops arriving within `batchMs` go to the store in one tick (one pipelined round
 *   trip), and a room's online list is read once for all of that batch's joiners of the room.
 * Presence is best effort: a store error is logged and never fails a join.
 */
export class PresenceTracker {
  private readonly entries = new Map<string, PresenceEntry>();
  private readonly timers: NodeJS.Timeout[];
  /** Leaves still talking to the store; close() waits for them before the connections go. */
  private readonly leaving = new Set<Promise<void>>();
  private joins: PendingJoin[] = [];
  private drops: PresenceEntry[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly io: CoachServer,
    private readonly presence: Presence,
    private readonly options: PresenceTrackerOptions,
    private readonly logger: Logger,
  ) {
    this.timers = [
      setInterval(() => void this.heartbeat(), Math.max(500, options.ttlMs / 3)),
      setInterval(() => void this.sweep(), Math.max(500, options.ttlMs / 2)),
    ];
    for (const t of this.timers) t.unref();
  }

  /** A socket joined a room; resolves with who is online there now (read with the other joins of the moment). */
  joined(socket: CoachSocket, roomId: string): Promise<string[]> {
    const key = entryKey(socket, roomId);
    const entry = { roomId, userId: socket.data.principal.userId, connId: socket.id };
    this.entries.set(key, entry);
    return new Promise((resolve) => {
      this.joins.push({ socket, key, entry, resolve });
      this.schedule();
    });
  }

  /** A socket left a room (room:leave, a removal): the user's leave is announced now if it was their last connection. */
  left(socket: CoachSocket, roomId: string): Promise<void> {
    return this.leave(entryKey(socket, roomId));
  }

  /** A socket's connection dropped: its entry lingers the grace period (or leaves now without one). */
  dropped(socket: CoachSocket, roomId: string): void {
    const key = entryKey(socket, roomId);
    if (this.options.graceMs === 0) return void this.leave(key);
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.drops.push(entry);
    this.schedule();
  }

  /** Removes every entry of this process (drain) once in-flight leaves are done. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.flush();
    await Promise.all([...this.entries.keys()].map((key) => this.leave(key)));
    await Promise.all(this.leaving);
  }

  private schedule(): void {
    this.flushTimer ??= setTimeout(() => void this.flush(), this.options.batchMs);
  }

  /** Sends the batch's joins and drops to the store in one tick (the Redis connection pipelines them). */
  private async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const [joins, drops] = [this.joins, this.drops];
    this.joins = [];
    this.drops = [];
    const lingering = drops.map((entry) =>
      this.presence.linger(entry, this.options.graceMs).catch((err) => this.logger.warn({ err, roomId: entry.roomId }, "presence linger failed")),
    );
    const arrivals = joins.map(async (j) => {
      try {
        if (await this.presence.join(j.entry)) this.announce(j.entry.roomId, j.entry.userId, true);
      } catch (err) {
        this.logger.warn({ err, roomId: j.entry.roomId }, "presence join failed");
      }
    });
    const rooms = new Map<string, Promise<string[]>>();
    for (const { entry } of joins) {
      if (!rooms.has(entry.roomId)) rooms.set(entry.roomId, this.presence.online(entry.roomId));
    }
    await Promise.all([...lingering, ...arrivals]);
    for (const j of joins) {
      // Disconnected meanwhile: its drop found no entry yet, so leave now (no ghost entry).
      if (!j.socket.connected) {
        await this.leave(j.key);
        j.resolve([]);
        continue;
      }
      j.resolve(
        await rooms.get(j.entry.roomId)!.then(
          (online) => (online.includes(j.entry.userId) ? online : [...online, j.entry.userId]),
          (err) => (this.logger.warn({ err, roomId: j.entry.roomId }, "presence online failed"), []),
        ),
      );
    }
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

/** The tracker's key for a (connection, room) entry. */
function entryKey(socket: CoachSocket, roomId: string): string {
  return `${socket.id}\t${roomId}`;
}
