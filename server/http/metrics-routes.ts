import type { Metrics } from "../metrics/metrics.ts";
import type { Route } from "./route.ts";

/** GET /metrics in Prometheus text format. */
export function metricsRoutes(metrics: Metrics): Route[] {
  return [
    {
      method: "GET",
      path: "/metrics",
      async handle() {
        return { status: 200, body: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
      },
    },
  ];
}
