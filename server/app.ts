import type { Logger } from "pino";
import type { Db } from "../db/db.ts";
import { openDb } from "../db/open.ts";
import { AuthService } from "./auth/auth-service.ts";
import type { Config } from "./config.ts";
import { LocalDenylist } from "./denylist/local-denylist.ts";
import { authRoutes } from "./http/auth-routes.ts";
import { healthRoutes } from "./http/health-routes.ts";
import { dispatch, type Route } from "./http/route.ts";
import { Persister } from "./log/persister.ts";
import { LocalRateLimiter } from "./ratelimit/local-rate-limiter.ts";
import { roomBroadcaster } from "./realtime/broadcaster.ts";
import { requireAccessToken } from "./realtime/handshake.ts";
import { createIo } from "./realtime/io.ts";
import { registerMessageHandlers } from "./realtime/message-handlers.ts";
import { registerRoomHandlers } from "./realtime/room-handlers.ts";
import { Sessions } from "./realtime/sessions.ts";
import { watchSlowConsumers } from "./realtime/slow-consumers.ts";
import type { CoachServer } from "./realtime/socket-types.ts";
import { RoomRegistry } from "./rooms/room-registry.ts";
import { createNodeTransport } from "./transport/node-transport.ts";
import type { Transport, TransportOptions } from "./transport/transport.ts";
import { createUwsTransport } from "./transport/uws-transport.ts";

/** A started server process. */
export interface RunningServer {
  port: number;
  transport: Transport["kind"];
  io: CoachServer;
  db: Db;
  auth: AuthService;
  /** Stops taking work, stores what is queued, moves clients away, and closes everything. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** An already open database (tests share one across restarts); it is not closed by close(). */
  db?: Db;
}

function createTransport(config: Config, options: TransportOptions, logger: Logger): Transport {
  if (config.transport === "uws") {
    try {
      return createUwsTransport(options);
    } catch (err) {
      logger.warn({ err }, "uWebSockets.js could not load; falling back to node:http with ws");
    }
  }
  return createNodeTransport(options);
}

/** Wires config → database → HTTP + Socket.IO → room actors → persister, and listens. */
export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  const log = (module: string) => logger.child({ module });
  const db = options.db ?? (await openDb(config.db));
  let draining = false;

  const denylist = new LocalDenylist();
  const auth = new AuthService(db, denylist, config.auth);
  const loginLimiter = new LocalRateLimiter({ capacity: config.limits.loginPerMin, refillPerSec: config.limits.loginPerMin / 60 });
  const eventLimiter = new LocalRateLimiter({ capacity: config.limits.sendBurst, refillPerSec: config.limits.sendPerS });

  const routes: Route[] = [
    ...healthRoutes({ db, isDraining: () => draining }),
    ...authRoutes({ auth, loginLimiter }),
  ];
  const transport = createTransport(
    config,
    {
      handle: (req) => dispatch(routes, req),
      trustProxy: config.limits.trustProxy,
      // Frames are only dropped far past the point where the slow-consumer sweep closes a socket.
      dropThresholdBytes: config.wire.slowConsumerBytes * 4,
    },
    log("transport"),
  );
  const io = createIo(config, transport, log("io"));
  const sessions = new Sessions(io, log("sessions"));
  const persister = new Persister(db, config.persister, roomBroadcaster(io), log("persister"));
  const rooms = new RoomRegistry({ db, append: (draft) => persister.append(draft) });
  const guards = { limiter: eventLimiter, logger: log("requests") };

  auth.on("revoked", (principal) => sessions.closeToken(principal.jti, "token revoked"));
  requireAccessToken(io, auth, () => draining);
  io.on("connection", (socket) => {
    socket.on("error", (err) => log("io").debug({ err, socket: socket.id }, "socket error"));
    sessions.add(socket);
    registerRoomHandlers(socket, { db, rooms, limits: config.rooms, guards });
    registerMessageHandlers(socket, { rooms, guards });
  });
  const stopSweep = watchSlowConsumers(io, transport, sessions, config.wire.slowConsumerBytes, log("slow-consumers"));

  const port = await transport.listen(config.host, config.port);
  log("app").info({ port, transport: transport.kind, db: db.driver, parser: config.wire.parser }, "listening");

  return {
    port,
    transport: transport.kind,
    io,
    db,
    auth,
    async close() {
      draining = true;
      transport.close();
      await persister.close();
      sessions.closeAll("server draining");
      stopSweep();
      rooms.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await Promise.all([denylist.close(), loginLimiter.close(), eventLimiter.close()]);
      if (!options.db) await db.close();
    },
  };
}
