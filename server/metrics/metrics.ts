import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { PoolStats } from "../../db/db.ts";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What the metrics read on each scrape. */
export interface MetricsSources {
  connections(): number;
  poolStats(): PoolStats;
  poolMax: number;
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
  readonly httpRequests = new Counter({
    name: "coachwire_http_requests_total",
    help: "HTTP requests, by path and status",
    labelNames: ["path", "status"] as const,
    registers: [this.registry],
  });

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
  }
}
