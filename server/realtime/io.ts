import { Server } from "socket.io";
import type { Logger } from "pino";
import { msgpackParser } from "../../protocol/parser.ts";
import type { Config } from "../config.ts";
import type { Transport } from "../transport/transport.ts";
import type { CoachServer } from "./socket-types.ts";

/** Ping cadence: a dead peer is noticed within interval + timeout. */
export const PING_INTERVAL_MS = 25_000;
export const PING_TIMEOUT_MS = 20_000;

/** Creates the Socket.IO server (websocket first, small frames, msgpack or JSON) on a transport. */
export function createIo(config: Config, transport: Transport, logger: Logger): CoachServer {
  const io: CoachServer = new Server({
    transports: ["websocket", "polling"],
    maxHttpBufferSize: config.wire.maxPayloadBytes,
    pingInterval: PING_INTERVAL_MS,
    pingTimeout: PING_TIMEOUT_MS,
    serveClient: false,
    cors: { origin: true, credentials: false },
    ...(config.wire.parser === "msgpack" ? { parser: msgpackParser } : {}),
  });
  transport.attach(io);
  io.engine.on("connection_error", (err: { code: number; message: string }) => {
    logger.debug({ code: err.code, message: err.message }, "engine connection refused");
  });
  return io;
}
