import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { toWireError } from "../../protocol/errors.ts";
import type { MetricsGate } from "../metrics/metrics-gate.ts";
import type { MetricsSnapshot } from "../metrics/metrics-snapshot.ts";
import { errorReply } from "./route.ts";

/** The metrics port when COACHWIRE_METRICS_PORT is set: GET /metrics and nothing else, apart from the clients' port. */
export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves the snapshot on host:port (scrapes per IP limited by the gate); resolves once listening. */
export function startMetricsServer(snapshot: MetricsSnapshot, gate: MetricsGate, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") return void res.writeHead(404).end();
    gate
      .admit(req.socket.remoteAddress ?? "", false)
      .then(() => snapshot.render())
      .then(
        (body) => res.writeHead(200, { "Content-Type": snapshot.contentType, "Cache-Control": "no-store" }).end(body),
        (err: unknown) => {
          const reply = errorReply(err);
          res.writeHead(reply.status, { "Content-Type": "application/json" }).end(JSON.stringify({ ok: false, error: toWireError(err) }));
        },
      );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, exclusive: true }, () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    );
  });
}
