import { createServer, type Server } from "node:http";
import type { Queue, Worker } from "bullmq";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The worker's own /metrics: jobs completed and failed by kind, processing time, and queue
 * depth by state (read from BullMQ when scraped).
 */
export function serveWorkerMetrics(port: number, host: string, worker: Worker, queue: Queue): Server {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "coachwire_worker_" });
  const completed = new Counter({ name: "coachwire_jobs_completed_total", help: "Jobs completed", labelNames: ["kind"], registers: [registry] });
  const failed = new Counter({ name: "coachwire_jobs_failed_total", help: "Job attempts that failed", labelNames: ["kind"], registers: [registry] });
  const seconds = new Histogram({
    name: "coachwire_job_seconds",
    help: "Job processing time",
    labelNames: ["kind"],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  new Gauge({
    name: "coachwire_queue_jobs",
    help: "Jobs in the notices queue by state",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const counts = await queue.getJobCounts("waiting", "delayed", "active", "failed");
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  worker.on("completed", (job) => {
    completed.inc({ kind: job.name });
    if (job.processedOn && job.finishedOn) seconds.observe({ kind: job.name }, (job.finishedOn - job.processedOn) / 1000);
  });
  worker.on("failed", (job) => failed.inc({ kind: job?.name ?? "unknown" }));

  const server = createServer((req, res) => {
    if (req.url === "/metrics") {
      registry.metrics().then(
        (body) => res.writeHead(200, { "Content-Type": registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    } else if (req.url === "/healthz") {
      // 503 once stopping, so an orchestrator stops sending it work.
      res.writeHead(worker.closing ? 503 : 200, { "Content-Type": "application/json" }).end(JSON.stringify({ ok: !worker.closing, pid: process.pid }));
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(port, host);
  return server;
}
