/** How a {@link BatchLoader} gathers its batches. */
export interface BatchLoaderOptions {
  /** How long the first key of a batch waits for company (0: until the end of the current tick's I/O). */
  waitMs: number;
  /** A batch this large is loaded at once. */
  maxBatch: number;
}

interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(err: unknown): void;
}

/**
 * Coalesces lookups: keys asked for within `waitMs` of each other are loaded with ONE call of
 * `load` (one query, one Redis round trip), and a key asked for twice in a batch is loaded once
 * and shared. A reconnect storm asks the same few questions thousands of times a second; this
 * turns them into a few dozen round trips. `load` answers a map; a key it leaves out resolves
 * undefined. A failed load rejects every waiter of its batch (each caller decides what that means).
 */
export class BatchLoader<K extends string, V> {
  private batch = new Map<K, Array<Waiter<V>>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly load: (keys: K[]) => Promise<ReadonlyMap<K, V>>,
    private readonly options: BatchLoaderOptions,
  ) {}

  /** The value for `key`, loaded with whatever else is asked for in the same moment. */
  get(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      let waiters = this.batch.get(key);
      if (!waiters) this.batch.set(key, (waiters = []));
      waiters.push({ resolve, reject });
      if (this.batch.size >= this.options.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.waitMs);
    });
  }

  /** Loads what is waiting now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.batch;
    if (batch.size === 0) return;
    this.batch = new Map();
    this.load([...batch.keys()]).then(
      (values) => {
        for (const [key, waiters] of batch) for (const w of waiters) w.resolve(values.get(key));
      },
      (err: unknown) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}
