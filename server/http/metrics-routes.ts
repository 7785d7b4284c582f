import type { MetricsGate } from "../metrics/metrics-gate.ts";
import type { MetricsSnapshot } from "../metrics/metrics-snapshot.ts";
import type { Route } from "./route.ts";

/**
 * GET /metrics on the main port, for clients in COACHWIRE_METRICS_CIDRS only (loopback by
 * default; the address is the one the rate limits use), COACHWIRE_METRICS_RATE_PER_MIN per IP.
 * With COACHWIRE_METRICS_PORT set the main port has no /metrics at all (see metrics-server.ts).
 */
export function metricsRoutes(snapshot: MetricsSnapshot, gate: MetricsGate): Route[] {
  return [
    {
      method: "GET",
      path: "/metrics",
      async handle(req) {
        await gate.admit(req.ip);
        return { status: 200, body: await snapshot.render(), contentType: snapshot.contentType };
      },
    },
  ];
}
