import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { PoolStats } from "../../db/db.ts";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What the metrics read on each scrape. */
export interface MetricsSources {
  connections(): number;
  poolStats(): PoolStats;
  poolMax: number;
  /** Admission control's bucket and handshakes being served (absent before the server is wired). */
  admission?(): { tokens: number; inFlight: number; queued: number };
  /** Lookups of the verified-token cache since start. */
  tokenCache?(): { hits: number; misses: number; size: number };
}

/**
 * Every Prometheus metric of a server process, on its own registry (served at GET /metrics, see metrics-routes.ts).
 * Default Node metrics (CPU, memory, event-loop lag, GC) come with it.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly eventsIn = new Counter({
    name: "coachwire_events_in_total",
    help: "Request events received from clients, by event name",
    labelNames: ["event"] as const,
    registers: [this.registry],
  });
  readonly requestsFailed = new Counter({
    name: "coachwire_requests_failed_total",
    help: "Request events answered with an error, by event and error code",
    labelNames: ["event", "code"] as const,
    registers: [this.registry],
  });
  readonly eventsOut = new Counter({
    name: "coachwire_events_out_total",
    help: "Events broadcast to rooms by this process, by kind",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly ackLatency = new Histogram({
    name: "coachwire_ack_latency_seconds",
    help: "msg:send received to acknowledged (after COMMIT)",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly requestLatency = new Histogram({
    name: "coachwire_request_seconds",
    help: "Request events received to answered, by event (room:join and rooms:resume show how fast a storm is served)",
    labelNames: ["event"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly fanoutLatency = new Histogram({
    name: "coachwire_fanout_latency_seconds",
    help: "Event createdAt (its transaction start) to its broadcast being handed to the adapter",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: "coachwire_persister_batch_size",
    help: "Events per group-commit transaction",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [this.registry],
  });
  readonly flushSeconds = new Histogram({
    name: "coachwire_persister_flush_seconds",
    help: "Duration of one group-commit transaction",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly redisErrors = new Counter({
    name: "coachwire_redis_errors_total",
    help: "Redis connection and publish errors, by connection role",
    labelNames: ["role"] as const,
    registers: [this.registry],
  });
  readonly slowConsumers = new Counter({
    name: "coachwire_slow_consumers_total",
    help: "Sockets closed because they did not read fast enough",
    registers: [this.registry],
  });
  readonly floodClosed = new Counter({
    name: "coachwire_flood_closed_total",
    help: "Connections closed because they stayed over their request budget (COACHWIRE_FLOOD_GRACE_MS)",
    registers: [this.registry],
  });
  readonly joinReads = new Counter({
    name: "coachwire_join_reads_total",
    help: "Batched queries of joins and resumes (head: rooms and memberships; backlog: events after each since), by read",
    labelNames: ["read"] as const,
    registers: [this.registry],
  });
  readonly joinReadKeys = new Counter({
    name: "coachwire_join_read_keys_total",
    help: "Distinct keys those queries answered: (room, member) heads, (room, since) backlog range scans, by read",
    labelNames: ["read"] as const,
    registers: [this.registry],
  });
  readonly admitted = new Counter({
    name: "coachwire_admission_admitted_total",
    help: "Socket.IO handshakes admitted by admission control (then checked as usual)",
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: "coachwire_admission_refused_total",
    help: "Socket.IO handshakes refused by admission control (UNAVAILABLE with a retry hint), by cause",
    labelNames: ["cause"] as const,
    registers: [this.registry],
  });
  readonly handshakesRefused = new Counter({
    name: "coachwire_handshakes_refused_total",
    help: "Socket.IO handshakes refused, by error code (\"second CONNECT\": a protocol violation, closed unanswered)",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  readonly drainClosed = new Counter({
    name: "coachwire_drain_closed_total",
    help: "Sockets a drain told to move (session:closing \"server draining\")",
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: "coachwire_http_requests_total",
    help: "HTTP requests, by path and status",
    labelNames: ["path", "status"] as const,
    registers: [this.registry],
  });

  /** One batched join read of `keys` distinct keys. */
  joinRead(read: "head" | "backlog", keys: number): void {
    this.joinReads.inc({ read });
    this.joinReadKeys.inc({ read }, keys);
  }

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    new Gauge({
      name: "coachwire_connections",
      help: "Open Socket.IO connections on this process",
      registers: [this.registry],
      collect() {
        this.set(sources.connections());
      },
    });
    new Gauge({
      name: "coachwire_db_pool_connections",
      help: "Database pool connections by state (total, idle, waiting clients) and the configured max",
      labelNames: ["state"] as const,
      registers: [this.registry],
      collect() {
        const stats = sources.poolStats();
        this.set({ state: "total" }, stats.total);
        this.set({ state: "idle" }, stats.idle);
        this.set({ state: "waiting" }, stats.waiting);
        this.set({ state: "max" }, sources.poolMax);
      },
    });
    const admissionGauges = [
      ["tokens", "coachwire_admission_tokens", "handshakes the token bucket would admit now (COACHWIRE_ADMIT_RATE_PER_S, COACHWIRE_ADMIT_BURST)"],
      ["inFlight", "coachwire_admission_in_flight", "admitted handshakes whose first join or resume is not answered yet (COACHWIRE_ADMIT_IN_FLIGHT_MAX)"],
      ["queued", "coachwire_admission_queued", "handshakes waiting in line for their turn (at most COACHWIRE_ADMIT_QUEUE_MS of waiting)"],
    ] as const;
    for (const [field, name, what] of admissionGauges) {
      new Gauge({
        name,
        help: `Admission control: ${what}`,
        registers: [this.registry],
        collect() {
          this.set(sources.admission?.()[field] ?? 0);
        },
      });
    }
    new Counter({
      name: "coachwire_token_cache_total",
      help: "Access-token verifications answered from this process's cache (hit) or checked in full (miss)",
      labelNames: ["result"] as const,
      registers: [this.registry],
      collect() {
        const c = sources.tokenCache?.();
        this.reset();
        this.inc({ result: "hit" }, c?.hits ?? 0);
        this.inc({ result: "miss" }, c?.misses ?? 0);
      },
    });
    new Counter({
      name: "coachwire_db_queries_total",
      help: "Statements this process sent to the database (each a round trip; BEGIN and COMMIT count)",
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(sources.poolStats().statements);
      },
    });
  }
}
