import * as hdr from "hdr-histogram-js";

/** Latency percentiles in milliseconds. */
export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** An empty latency histogram in µs (1 µs to 120 s, 3 significant digits): the shape every bench histogram has. */
export const latencyHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

/** A µs histogram's percentiles, in ms (all zero when it is empty). */
export function percentiles(h: hdr.Histogram): Percentiles {
  const ms = (p: number) => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / 1000);
  return { count: h.totalCount, p50: ms(50), p99: ms(99), p999: ms(99.9), max: h.totalCount === 0 ? 0 : h.maxValue / 1000 };
}

/** The sum of histograms encoded by the client processes (an empty string is an empty histogram). */
export function mergeHistograms(encoded: string[]): hdr.Histogram {
  const all = latencyHistogram();
  for (const e of encoded) if (e) all.add(hdr.decodeFromCompressedBase64(e));
  return all;
}

/** The value at percentile `p` (0–100) of numbers sorted ascending; null when there are none. */
export function sortedPercentile(sorted: readonly number[], p: number): number | null {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}
