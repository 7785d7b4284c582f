/**
 * How many sockets each user holds on this process, and the cap on it. A slot is taken in the
 * handshake (before the socket exists, so parallel handshakes of one user cannot all slip
 * under the cap) and given back once, when the socket or its connection goes.
 */
export class UserSocketCap {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes a slot for the user; false when they are at the cap. The returned release is idempotent. */
  take(userId: string): (() => void) | undefined {
    const count = this.counts.get(userId) ?? 0;
    if (count >= this.max) return undefined;
    this.counts.set(userId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(userId) ?? 1) - 1;
      if (left <= 0) this.counts.delete(userId);
      else this.counts.set(userId, left);
    };
  }

  /** Sockets the user holds on this process. */
  count(userId: string): number {
    return this.counts.get(userId) ?? 0;
  }
}
