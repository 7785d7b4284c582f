import type { Logger } from "pino";
import type { Metrics } from "../metrics/metrics.ts";
import type { Transport } from "../transport/transport.ts";
import type { Sessions } from "./sessions.ts";
import type { CoachServer } from "./socket-types.ts";

const SWEEP_MS = 250;

/**
 * Finds sockets that are not reading fast enough and closes them with a reconnect-class reason,
 * so they resume by seq instead of buffering without end. Used on transports that do not close
 * slow sockets themselves (node:http + ws); under uWS, closeOnBackpressureLimit does it.
 */
export function watchSlowConsumers(
  io: CoachServer,
  transport: Transport,
  sessions: Sessions,
  limitBytes: number,
  logger: Logger,
  metrics?: Metrics,
): () => void {
  const timer = setInterval(() => {
    for (const socket of io.of("/").sockets.values()) {
      const buffered = transport.bufferedAmount(socket);
      if (buffered > limitBytes) {
        logger.warn({ socket: socket.id, user: socket.data.principal.userId, buffered }, "closing slow consumer");
        metrics?.slowConsumers.inc();
        sessions.close(socket, "slow consumer");
      }
    }
  }, SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
