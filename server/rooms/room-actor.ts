import { roomMembers } from "./room-members.ts";
import { CoachwireError } from "../../protocol/errors.ts";
import type { MemberRole, RoomMember } from "../../protocol/events.ts";
import type { Db } from "../../db/db.ts";
import type { AppendOutcome, EventDraft } from "../log/append.ts";

/** What a room actor needs from the rest of the process (a narrow seam, not the whole server). */
export interface RoomActorContext {
  db: Db;
  append(draft: EventDraft): Promise<AppendOutcome>;
  /** Called when the room turns out not to exist, so nothing is kept for an unknown id. */
  forget?(roomId: string): void;
}

export interface RoomSnapshot {
  id: string;
  name: string;
  members: RoomMember[];
}

/**
 * One room's mailbox. Commands for the room run one at a time, in arrival order, so the order
 * in which this process hands the room's events to the persister is the order they arrived;
 * the persister then gives them ascending seqs in that order. The actor caches the room and its
 * members (loaded on first use) so membership is checked on every event without a query.
 */
export class RoomActor {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private room: { name: string; institutionId: string; members: Map<string, RoomMember> } | undefined;
  /** Milliseconds timestamp of the last command, for idle eviction. */
  lastUsed = Date.now();

  constructor(
    readonly roomId: string,
    private readonly ctx: RoomActorContext,
  ) {}

  /** Checks that `userId` is a member and returns the room and its member list. */
  join(userId: string): Promise<RoomSnapshot> {
    return this.run(async () => {
      await this.loadFor(userId);
      const room = this.room!;
      await this.assertMember(userId);
      return { id: this.roomId, name: room.name, members: [...room.members.values()] };
    });
  }

  /** Checks membership (for reads that go straight to the log). */
  authorize(userId: string): Promise<MemberRole> {
    return this.run(async () => {
      await this.loadFor(userId);
      return await this.assertMember(userId);
    });
  }

  /**
   * Queues a member's event for storage. The mailbox moves on as soon as the draft is queued
   * (keeping arrival order); the returned promise settles after the commit.
   */
  async send(userId: string, draft: Omit<EventDraft, "roomId" | "senderId">): Promise<AppendOutcome> {
    const queued = await this.run(async () => {
      await this.loadFor(userId);
      await this.assertMember(userId);
      if (this.room!.members.get(userId)!.muted) {
        // Possibly unmuted on another process a moment ago: ask the database before refusing.
        this.room = undefined;
        await this.load();
        if (this.room!.members.get(userId)?.muted ?? true) throw new CoachwireError(this.room!.members.has(userId) ? "MUTED" : "NOT_A_MEMBER");
      }
      return { commit: this.ctx.append({ ...draft, roomId: this.roomId, senderId: userId }) };
    });
    return queued.commit;
  }

  /**
   * Forgets the cached room and members (they changed); the next command reloads them. Queued
   * behind the commands already in the mailbox, so none of them sees a half-old cache.
   */
  invalidate(): Promise<void> {
    return this.run(async () => {
      this.room = undefined;
    });
  }

  /**
   * Whether this user may be heard typing: a member, not muted. Asked in the mailbox, so a mute
   * whose invalidation is queued ahead of it is seen (the members are loaded again after one).
   * An unknown room or a non-member is simply false: typing is dropped, never answered.
   */
  mayType(userId: string): Promise<boolean> {
    return this.run(async () => {
      const member = (await this.load()).members.get(userId);
      return member !== undefined && !member.muted;
    }).catch(() => false);
  }

  /** True when no command is queued or running. */
  get idle(): boolean {
    return this.pending === 0;
  }

  private run<T>(command: () => Promise<T>): Promise<T> {
    this.lastUsed = Date.now();
    this.pending++;
    const result = this.tail.then(command);
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }

  /**
   * The member's role. A stranger of another institution is told the room does not exist (the
   * one query on this path runs only for non-members, never for a member's send).
   */
  private async assertMember(userId: string): Promise<MemberRole> {
    const room = this.room!;
    const member = room.members.get(userId);
    if (member) return member.role;
    const user = await this.ctx.db.query<{ institution_id: string }>("SELECT institution_id FROM users WHERE id = $1", [userId]);
    throw new CoachwireError(user.rows[0]?.institution_id === room.institutionId ? "NOT_A_MEMBER" : "ROOM_NOT_FOUND");
  }

  /**
   * Loads the room, and loads it again once when the user is missing from the cache: they may
   * have been added on another process a moment ago (the change notice can trail the commit).
   */
  private async loadFor(userId: string): Promise<void> {
    const room = await this.load();
    if (room.members.has(userId)) return;
    this.room = undefined;
    await this.load();
  }

  private async load(): Promise<NonNullable<RoomActor["room"]>> {
    if (this.room) return this.room;
    const found = await this.ctx.db.query<{ name: string; institution_id: string }>("SELECT name, institution_id FROM rooms WHERE id = $1", [this.roomId]);
    const row = found.rows[0];
    if (!row) {
      this.ctx.forget?.(this.roomId);
      throw new CoachwireError("ROOM_NOT_FOUND");
    }
    this.room = {
      name: row.name,
      institutionId: row.institution_id,
      members: new Map((await roomMembers(this.ctx.db, this.roomId)).map((m) => [m.userId, m])),
    };
    return this.room;
  }
}
