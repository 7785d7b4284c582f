/** One connection of one user in one room. */
export interface PresenceEntry {
  roomId: string;
  userId: string;
  connId: string;
}

/**
 * Who is online in each room, at user level: a user's first live connection in a room makes
 * them join, their last one makes them leave (five tabs are one person). Entries live for a
 * TTL and are kept alive by heartbeats, so the users of a process that died fade out when a
 * sweep finds their entries expired. In-process for the embedded default
 * (`local-presence.ts`), in Redis across processes (`redis-presence.ts`); one shared suite.
 */
export interface Presence {
  /** Adds a connection; true when it is the user's first live one in the room. */
  join(entry: PresenceEntry): Promise<boolean>;
  /** Removes a connection; true when it was the user's last live one in the room. */
  leave(entry: PresenceEntry): Promise<boolean>;
  /**
   * A connection dropped: it stays live `ms` more instead of leaving now, so a reconnect within
   * it finds the user online (no leave, no arrival); if none comes, the sweep announces the leave.
   * Does nothing for a connection that is not there.
   */
  linger(entry: PresenceEntry, ms: number): Promise<void>;
  /** Extends the life of these entries by the TTL (re-adding any that were swept). */
  heartbeat(entries: readonly PresenceEntry[]): Promise<void>;
  /** Users with at least one live connection in the room. */
  online(roomId: string): Promise<string[]>;
  /** Drops expired entries; returns the users who thereby left their room. */
  sweep(): Promise<Array<{ roomId: string; userId: string }>>;
  close(): Promise<void>;
}
