/**
 * What a process has committed, as a stream: writers publish after COMMIT (the room log's
 * events, read marks, membership changes), and whoever shows them subscribes — the realtime
 * layer once its Socket.IO server is up. Nothing is buffered: what commits while no one listens
 * is in the database, where a client's resume finds it.
 */
export class CommitStream<T extends unknown[]> {
  private readonly subscribers = new Set<(...value: T) => void>();

  /** Hands `value` to every subscriber, in the order they subscribed. */
  readonly publish = (...value: T): void => {
    for (const s of this.subscribers) s(...value);
  };

  /** Adds a subscriber; returns how to remove it. */
  subscribe(fn: (...value: T) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}
