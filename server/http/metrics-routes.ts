import { CoachwireError } from "../../protocol/errors.ts";
import type { MetricsSnapshot } from "../metrics/metrics-snapshot.ts";
import type { Route } from "./route.ts";

/**
 * GET /metrics on the main port, for clients in COACHWIRE_METRICS_CIDRS only (loopback by
 * default; the address is the one the rate limits use). With COACHWIRE_METRICS_PORT set the
 * main port has no /metrics at all (see metrics-server.ts).
 */
export function metricsRoutes(snapshot: MetricsSnapshot, isAllowed: (ip: string) => boolean): Route[] {
  return [
    {
      method: "GET",
      path: "/metrics",
      async handle(req) {
        if (!isAllowed(req.ip)) throw new CoachwireError("FORBIDDEN", "Metrics are served to COACHWIRE_METRICS_CIDRS only");
        return { status: 200, body: await snapshot.render(), contentType: snapshot.contentType };
      },
    },
  ];
}
