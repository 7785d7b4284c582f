import type { Presence, PresenceEntry } from "./presence.ts";

/** Presence in one process's memory, with the same TTL semantics as the Redis version. */
export class LocalPresence implements Presence {
  /** roomId → (userId → (connId → expiry ms)). */
  private readonly rooms = new Map<string, Map<string, Map<string, number>>>();

  constructor(private readonly ttlMs: number) {}

  async join({ roomId, userId, connId }: PresenceEntry): Promise<boolean> {
    const now = Date.now();
    const conns = this.connsOf(roomId, userId);
    // A repeated join of a live connection is not a new arrival.
    const first = ![...conns.values()].some((expiry) => expiry > now);
    conns.set(connId, now + this.ttlMs);
    return first;
  }

  async leave({ roomId, userId, connId }: PresenceEntry): Promise<boolean> {
    const conns = this.rooms.get(roomId)?.get(userId);
    if (!conns?.delete(connId)) return false;
    const now = Date.now();
    const last = ![...conns.values()].some((expiry) => expiry > now);
    // Expired entries of a user who just left must not make a later sweep announce it again.
    if (last) this.forget(roomId, userId);
    return last;
  }

  async linger({ roomId, userId, connId }: PresenceEntry, ms: number): Promise<void> {
    const conns = this.rooms.get(roomId)?.get(userId);
    if (conns?.has(connId)) conns.set(connId, Date.now() + ms);
  }

  async heartbeat(entries: readonly PresenceEntry[]): Promise<void> {
    const now = Date.now();
    for (const { roomId, userId, connId } of entries) this.connsOf(roomId, userId).set(connId, now + this.ttlMs);
  }

  async online(roomId: string): Promise<string[]> {
    const now = Date.now();
    const users = this.rooms.get(roomId) ?? new Map<string, Map<string, number>>();
    return [...users].filter(([, conns]) => [...conns.values()].some((e) => e > now)).map(([u]) => u);
  }

  async sweep(): Promise<Array<{ roomId: string; userId: string }>> {
    const now = Date.now();
    const gone: Array<{ roomId: string; userId: string }> = [];
    for (const [roomId, users] of this.rooms) {
      for (const [userId, conns] of users) {
        let expired = false;
        for (const [connId, expiry] of conns) {
          if (expiry <= now) {
            conns.delete(connId);
            expired = true;
          }
        }
        if (conns.size === 0) {
          this.forget(roomId, userId);
          if (expired) gone.push({ roomId, userId });
        }
      }
    }
    return gone;
  }

  async close(): Promise<void> {
    this.rooms.clear();
  }

  private connsOf(roomId: string, userId: string): Map<string, number> {
    let users = this.rooms.get(roomId);
    if (!users) this.rooms.set(roomId, (users = new Map()));
    let conns = users.get(userId);
    if (!conns) users.set(userId, (conns = new Map()));
    return conns;
  }

  private forget(roomId: string, userId: string): void {
    const users = this.rooms.get(roomId);
    users?.delete(userId);
    if (users?.size === 0) this.rooms.delete(roomId);
  }
}
