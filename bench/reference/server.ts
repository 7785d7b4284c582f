import { createRequire } from "node:module";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { Server, type Socket } from "socket.io";
import type { ClientToServerEvents, RoomEvent, ServerToClientEvents } from "../../protocol/events.ts";
import { msgpackParser } from "../../protocol/parser.ts";
import { createLogger } from "../../server/logger.ts";
import { readReferenceConfig } from "./reference-config.ts";
import { MemorySeqCounter, RedisSeqCounter, type SeqCounter } from "./seq-counter.ts";

/**
 * The bench's reference: plain Socket.IO on uWebSockets.js with the Redis adapter, as an ops
 * team would run it. Same event names and ack shapes as coachwire, so the unchanged SDK drives
 * it, but no auth check, no persistence, no rate limits, no membership checks: the user id is
 * read from the token without verifying it, and a Redis INCR stands in for the room log's seq.
 */

type Uws = typeof import("@trufflesuite/uws-js-unofficial");
type HttpResponse = import("@trufflesuite/uws-js-unofficial").HttpResponse;
type ReferenceServer = Server<ClientToServerEvents, ServerToClientEvents>;
type ReferenceSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

const config = readReferenceConfig();
const logger = createLogger(config.logLevel).child({ module: "reference-server" });
const uws = createRequire(import.meta.url)("@trufflesuite/uws-js-unofficial") as Uws;

/** The user a handshake claims to be: the unverified JWT `sub` of `auth.token`, or `auth.userId`. */
function claimedUserId(auth: Record<string, unknown>, fallback: string): string {
  if (typeof auth["token"] === "string") {
    try {
      const payload = JSON.parse(Buffer.from(auth["token"].split(".")[1] ?? "", "base64url").toString("utf8")) as { sub?: unknown };
      if (typeof payload.sub === "string") return payload.sub;
    } catch {
      // Not a JWT: fall through; the reference never refuses a connection.
    }
  }
  return typeof auth["userId"] === "string" ? auth["userId"] : fallback;
}

/** Calls a client's ack when it sent one (a plain server must not crash on a missing callback). */
function reply(ack: unknown, value: unknown): void {
  if (typeof ack === "function") ack(value);
}

function handleSocket(io: ReferenceServer, socket: ReferenceSocket, seqs: SeqCounter): void {
  const userId = claimedUserId(socket.handshake.auth, `anonymous-${socket.id}`);
  const unavailable = (err: unknown) => ({ ok: false, error: { code: "UNAVAILABLE", message: String(err), retryable: true } });

  socket.on("room:join", async ({ roomId }, ack) => {
    // Join first, then read the counter: every seq above lastSeq is broadcast after the join.
    await socket.join(roomId);
    try {
      const lastSeq = await seqs.current(roomId);
      reply(ack, { ok: true, room: { id: roomId, name: roomId, lastSeq }, members: [], events: [], truncated: false, online: [] });
    } catch (err) {
      reply(ack, unavailable(err));
    }
  });

  socket.on("msg:send", async ({ roomId, clientId, body }, ack) => {
    try {
      const seq = await seqs.next(roomId);
      const event: RoomEvent = { roomId, seq, kind: "chat", senderId: userId, clientId, body, createdAt: Date.now() };
      io.to(roomId).emit("room:event", event);
      reply(ack, { ok: true, seq, duplicate: false });
    } catch (err) {
      reply(ack, unavailable(err));
    }
  });

  // The SDK's resume after a reconnect: each room joined as room:join above (no backlog: the
  // reference keeps no history), all answered at once.
  socket.on("rooms:resume", async ({ rooms }, ack) => {
    try {
      const joined = await Promise.all(
        rooms.map(async ({ roomId }) => {
          await socket.join(roomId);
          const lastSeq = await seqs.current(roomId);
          return { roomId, ok: true as const, room: { id: roomId, name: roomId, lastSeq }, members: [], lastReadSeq: 0, events: [], truncated: false, online: [] };
        }),
      );
      reply(ack, { ok: true, rooms: joined });
    } catch (err) {
      reply(ack, unavailable(err));
    }
  });

  socket.on("room:history", (_req, ack) => reply(ack, { ok: true, events: [], hasMore: false }));
  socket.on("room:leave", async ({ roomId }, ack) => {
    await socket.leave(roomId);
    reply(ack, { ok: true });
  });
  socket.on("typing", ({ roomId }) => io.to(roomId).volatile.emit("typing", { roomId, userId }));
}

function sendText(res: HttpResponse, status: string, contentType: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status);
    res.writeHeader("Content-Type", contentType);
    res.writeHeader("Cache-Control", "no-store");
    res.end(body);
  });
}

/** /healthz, /readyz and /metrics on the same uWS App as Socket.IO (whose /socket.io/ route wins over "/*"). */
function addHttpRoutes(app: ReturnType<Uws["App"]>, io: ReferenceServer): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "coachwire_connections",
    help: "Open Socket.IO connections on this reference server process",
    registers: [registry],
    collect() {
      this.set(io.engine.clientsCount);
    },
  });

  const json = "application/json";
  app.get("/healthz", (res) => sendText(res, "200 OK", json, JSON.stringify({ ok: true, pid: process.pid })));
  app.get("/readyz", (res) => sendText(res, "200 OK", json, JSON.stringify({ ok: true })));
  app.get("/metrics", (res) => {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    registry.metrics().then(
      (text) => !aborted && sendText(res, "200 OK", registry.contentType, text),
      (err: Error) => !aborted && sendText(res, "500 Internal Server Error", "text/plain", err.message),
    );
  });
  app.any("/*", (res) => sendText(res, "404 Not Found", json, JSON.stringify({ ok: false })));
}

function connectRedis(url: string, role: string): Redis {
  const redis = new Redis(url, { connectionName: `reference-${role}-${process.pid}`, maxRetriesPerRequest: role === "subscriber" ? null : 2 });
  redis.on("error", (err: Error) => logger.warn({ role, err: err.message }, "redis connection error"));
  return redis;
}

async function main(): Promise<void> {
  const io: ReferenceServer = new Server({
    transports: ["websocket"],
    serveClient: false,
    ...(config.parser === "msgpack" ? { parser: msgpackParser } : {}),
  });
  const app = uws.App();
  io.attachApp(app);
  addHttpRoutes(app, io);

  let seqs: SeqCounter = new MemorySeqCounter();
  const redisConnections: Redis[] = [];
  if (config.redisUrl) {
    const [commands, pub, sub] = (["commands", "publisher", "subscriber"] as const).map((role) => connectRedis(config.redisUrl!, role)) as [Redis, Redis, Redis];
    redisConnections.push(commands, pub, sub);
    io.adapter(createAdapter(pub, sub, { key: `${config.redisPrefix}socket.io` }));
    seqs = new RedisSeqCounter(commands, config.redisPrefix);
  }
  io.on("connection", (socket) => handleSocket(io, socket, seqs));

  const listenSocket = await new Promise<unknown>((resolve, reject) =>
    app.listen(config.host, config.port, (socket) => (socket ? resolve(socket) : reject(new Error(`could not listen on ${config.host}:${config.port}`)))),
  );
  logger.info({ host: config.host, port: config.port, parser: config.parser, redis: Boolean(config.redisUrl) }, "reference server listening");

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "reference server stopping");
    uws.us_listen_socket_close(listenSocket as never);
    await io.close().catch(() => {}); // disconnects every socket
    await Promise.all(redisConnections.map((r) => r.quit().catch(() => r.disconnect())));
    process.exit(0);
  };
  process.on("SIGTERM", (signal) => void stop(signal));
  process.on("SIGINT", (signal) => void stop(signal));
}

main().catch((err: Error) => {
  logger.fatal({ err: err.message }, "reference server failed to start");
  process.exit(1);
});
