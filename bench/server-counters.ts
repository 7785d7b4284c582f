/**
 * Counters read from outside the servers at chosen moments: each server process's /metrics
 * (Prometheus text) and Redis's `INFO stats`. The storm reads them at three moments to tell
 * what one resume costs in round trips (bench/storm-phase.ts).
 */

/** What a counter sample reads, each summed over the server processes (Redis: the whole instance). */
export const COUNTERS = {
  /** Statements the server processes sent to PostgreSQL. */
  dbStatements: { metric: "coachwire_db_queries_total" },
  /** `room:join` requests received. */
  roomJoins: { metric: "coachwire_events_in_total", labels: { event: "room:join" } },
  /** `rooms:resume` requests received (every joined room in one request). */
  roomsResumes: { metric: "coachwire_events_in_total", labels: { event: "rooms:resume" } },
  /** Handshakes admission control let through, and refused (to come back later). */
  admitted: { metric: "coachwire_admission_admitted_total" },
  refused: { metric: "coachwire_admission_refused_total" },
} as const satisfies Record<string, { metric: string; labels?: Record<string, string> }>;

export type CounterName = keyof typeof COUNTERS | "redisCommands";

/** The counters at one moment (ms since the epoch); null where a counter could not be read. */
export interface CounterSample {
  at: number;
  values: Record<CounterName, number | null>;
}

/** Where `INFO stats` comes from (an ioredis client). */
export interface RedisInfoSource {
  info(section: "stats"): Promise<string>;
}

/**
 * The sum of a counter's series whose labels include `labels`, in Prometheus text; 0 when the
 * metric is declared (`# TYPE`) but has no such series yet (a labelled counter shows no series
 * until first counted); null when the metric is not there at all (a server without it).
 */
export function readCounter(text: string, metric: string, labels: Record<string, string> = {}): number | null {
  let declared = false;
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) {
      if (line.startsWith(`# TYPE ${metric} `)) declared = true;
      continue;
    }
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== metric) continue;
    declared = true;
    const set = new Map([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (Object.entries(labels).every(([k, v]) => set.get(k) === v)) sum += Number(m[3]);
  }
  return declared ? sum : null;
}

/** `total_commands_processed` of `INFO stats`; null when missing. */
export function redisCommandsOf(info: string): number | null {
  const m = /^total_commands_processed:(\d+)/m.exec(info);
  return m ? Number(m[1]) : null;
}

/**
 * Reads every counter now. A server counter is null when any server's /metrics could not be
 * read (a partial sum would undercount) or none of them has it.
 */
export async function sampleCounters(serverUrls: readonly string[], redis: RedisInfoSource): Promise<CounterSample> {
  const at = Date.now();
  const [texts, info] = await Promise.all([
    Promise.all(serverUrls.map((u) => fetch(`${u}/metrics`).then((r) => (r.ok ? r.text() : null), () => null))),
    redis.info("stats").catch(() => ""),
  ]);
  const values = { redisCommands: redisCommandsOf(info) } as Record<CounterName, number | null>;
  for (const [name, c] of Object.entries(COUNTERS) as Array<[keyof typeof COUNTERS, (typeof COUNTERS)[keyof typeof COUNTERS]]>) {
    const each = texts.map((t) => (t === null ? undefined : readCounter(t, c.metric, "labels" in c ? c.labels : {})));
    const readable = texts.length > 0 && !each.includes(undefined) && each.some((v) => v !== null);
    values[name] = readable ? each.reduce<number>((s, v) => s + (v ?? 0), 0) : null;
  }
  return { at, values };
}

/** One counter over the storm: its raw counts and what one resume cost, beyond the baseline. */
export interface PerResume {
  /** Counted from T0 to T1 (the chat-only baseline window). */
  baseline: number | null;
  /** Counted from T1 to T2 (the storm and after). */
  window: number | null;
  /** (window − baseline rate × (T2 − T1)) / resumes; null without counts or resumes. */
  perResume: number | null;
}

/**
 * What one resume cost in `name`: the count from T1 to T2, less what the baseline window's
 * rate (T0 to T1) would have counted in that time, divided by the resumes. Everything else the
 * servers did in the window counts too, beyond the baseline.
 */
export function perResume(name: CounterName, t0: CounterSample, t1: CounterSample, t2: CounterSample, resumes: number): PerResume {
  const [a, b, c] = [t0.values[name], t1.values[name], t2.values[name]];
  if (a === null || b === null || c === null) return { baseline: null, window: null, perResume: null };
  const baseline = b - a;
  const window = c - b;
  const rate = t1.at > t0.at ? baseline / (t1.at - t0.at) : 0;
  return { baseline, window, perResume: resumes > 0 ? (window - rate * (t2.at - t1.at)) / resumes : null };
}
