import type { Logger } from "pino";
import type { Metrics } from "../metrics/metrics.ts";
import type { Transport } from "../transport/transport.ts";
import type { Sessions } from "./sessions.ts";
import type { CoachServer } from "./socket-types.ts";

// Each sweep asks uWS for every socket's buffered bytes; 250 ms keeps that cheap, and the drop
// threshold (8x the limit) is far enough that a socket is closed long before uWS would skip it.
const SWEEP_MS = 250;

/**
 * Finds sockets that are not reading fast enough and closes them with a reconnect-class reason,
 * so they resume by seq. This matters under uWS: a room broadcast (`app.publish`) silently
 * skips a socket whose buffer exceeds maxBackpressure. The transport's drop threshold is set
 * well above `limitBytes`, so a socket is closed here before anything is ever dropped for it.
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
