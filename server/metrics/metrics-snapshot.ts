import type { Registry } from "prom-client";

/**
 * The rendered Prometheus text, kept for `cacheMs`: any number of scrapers in that window, and
 * any number of them at once, cost one render (collecting every metric walks the process).
 */
export class MetricsSnapshot {
  private text: Promise<string> | undefined;
  private renderedAt = 0;

  constructor(
    private readonly registry: Registry,
    private readonly cacheMs: number,
  ) {}

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The current text: the cached one while fresh (or still rendering), else a new render. */
  render(): Promise<string> {
    const now = performance.now();
    if (this.text && now - this.renderedAt < this.cacheMs) return this.text;
    this.renderedAt = now;
    const text = this.registry.metrics();
    // A failed render is not kept: the next scrape tries again.
    text.catch(() => {
      if (this.text === text) this.text = undefined;
    });
    this.text = text;
    return text;
  }
}
