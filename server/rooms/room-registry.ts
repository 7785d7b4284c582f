import { RoomActor, type RoomActorContext } from "./room-actor.ts";

/** How long an actor with nothing to do keeps its cached room before it is dropped. */
const IDLE_EVICT_MS = 5 * 60_000;

/**
 * The process's room actors, created on first use and dropped when idle or when the room turns
 * out not to exist, so memory follows the rooms in use, not every id someone tried.
 */
export class RoomRegistry {
  private readonly actors = new Map<string, RoomActor>();
  private readonly sweeper: NodeJS.Timeout;

  private readonly ctx: RoomActorContext;

  constructor(ctx: RoomActorContext) {
    this.ctx = { ...ctx, forget: (roomId) => this.actors.delete(roomId) };
    this.sweeper = setInterval(() => this.evictIdle(Date.now() - IDLE_EVICT_MS), 60_000);
    this.sweeper.unref();
  }

  /** The actor for a room (the room itself is loaded, and checked to exist, on first command). */
  get(roomId: string): RoomActor {
    let actor = this.actors.get(roomId);
    if (!actor) {
      actor = new RoomActor(roomId, this.ctx);
      this.actors.set(roomId, actor);
    }
    return actor;
  }

  /** The room's members changed: a cached actor reloads them on its next command. */
  async invalidate(roomId: string): Promise<void> {
    await this.actors.get(roomId)?.invalidate();
  }

  get size(): number {
    return this.actors.size;
  }

  /** Drops actors idle since before `cutoff` (ms timestamp). */
  evictIdle(cutoff: number): void {
    for (const [id, actor] of this.actors) {
      if (actor.idle && actor.lastUsed < cutoff) this.actors.delete(id);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.actors.clear();
  }
}
