import type { Redis } from "ioredis";

/**
 * The reference server's per-room sequence numbers. Plain Socket.IO has no ordering of its own;
 * a Redis INCR is the only total order a stateless server can give across processes.
 */
export interface SeqCounter {
  /** Takes the room's next seq. */
  next(roomId: string): Promise<number>;
  /** The room's last seq taken (0 before the first). */
  current(roomId: string): Promise<number>;
}

/** Counters in this process's memory: right only for a single server process. */
export class MemorySeqCounter implements SeqCounter {
  private readonly counters = new Map<string, number>();

  async next(roomId: string): Promise<number> {
    const seq = (this.counters.get(roomId) ?? 0) + 1;
    this.counters.set(roomId, seq);
    return seq;
  }

  async current(roomId: string): Promise<number> {
    return this.counters.get(roomId) ?? 0;
  }
}

/** Counters at `<prefix>seq:<roomId>` in Redis, shared by every process. */
export class RedisSeqCounter implements SeqCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  next(roomId: string): Promise<number> {
    return this.redis.incr(this.key(roomId));
  }

  async current(roomId: string): Promise<number> {
    return Number((await this.redis.get(this.key(roomId))) ?? 0);
  }

  private key(roomId: string): string {
    return `${this.prefix}seq:${roomId}`;
  }
}
