import { Server } from "socket.io";
import type { Logger } from "pino";
import { msgpackParser } from "../../protocol/parser.ts";
import type { Config } from "../config.ts";
import type { Transport } from "../transport/transport.ts";
import type { EngineConnection, HandshakeGuard } from "./handshake-guard.ts";
import type { CoachServer } from "./socket-types.ts";

/** Ping cadence: a dead peer is noticed within interval + timeout. */
export const PING_INTERVAL_MS = 25_000;
export const PING_TIMEOUT_MS = 20_000;

/**
 * Creates the Socket.IO server on a transport: websocket only (every client of the product
 * speaks it; HTTP long-polling would let a connection sit unauthenticated as a series of cheap
 * requests, so its handshake is refused), small frames, msgpack or JSON. A connection that has
 * not completed the handshake within COACHWIRE_HANDSHAKE_TIMEOUT_MS is closed (Socket.IO's
 * connectTimeout), and the guard decides at the HTTP upgrade who may open one at all.
 */
export function createIo(config: Config, transport: Transport, guard: HandshakeGuard, logger: Logger): CoachServer {
  const io: CoachServer = new Server({
    transports: ["websocket"],
    maxHttpBufferSize: config.wire.maxPayloadBytes,
    pingInterval: PING_INTERVAL_MS,
    pingTimeout: PING_TIMEOUT_MS,
    connectTimeout: config.handshake.timeoutMs,
    allowRequest: guard.allowRequest as never,
    serveClient: false,
    cors: { origin: true, credentials: false },
    ...(config.wire.parser === "msgpack" ? { parser: msgpackParser } : {}),
  });
  transport.attach(io);
  io.engine.on("connection", (conn: EngineConnection) => guard.opened(conn));
  io.on("connection", (socket) => guard.authenticated(socket.conn as unknown as EngineConnection));
  io.engine.on("connection_error", (err: { code: number; message: string }) => {
    logger.debug({ code: err.code, message: err.message }, "engine connection refused");
  });
  return io;
}
