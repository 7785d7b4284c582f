import { createRequire } from "node:module";
import { createServer } from "node:net";
import { STATUS_CODES } from "node:http";
import type { Server, Socket } from "socket.io";
import { CoachwireError } from "../../protocol/errors.ts";
import { MAX_BODY_BYTES, errorReply, type HttpReply } from "../http/route.ts";
import { PortInUseError, replyHeaders, replyPayload, type Transport, type TransportOptions } from "./transport.ts";

type Uws = typeof import("@trufflesuite/uws-js-unofficial");
type HttpResponse = import("@trufflesuite/uws-js-unofficial").HttpResponse;
type UwsRequest = import("@trufflesuite/uws-js-unofficial").HttpRequest;

const FORWARDED_FOR = "x-forwarded-for";

/** Every X-Forwarded-For header of the request, joined with ", " in order, as node:http does (uWS gives each line separately). */
function forwardedFor(req: UwsRequest): string | undefined {
  const values: string[] = [];
  req.forEach((key, value) => key === FORWARDED_FOR && values.push(value));
  return values.length > 0 ? values.join(", ") : undefined;
}

/** Loads uWebSockets.js; throws when its native binary does not fit this platform or Node. */
export function loadUws(): Uws {
  return createRequire(import.meta.url)("@trufflesuite/uws-js-unofficial") as Uws;
}

/** True when listening on host:port fails with EADDRINUSE. */
function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "EADDRINUSE"));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

function send(res: HttpResponse, reply: HttpReply, isAborted: () => boolean, onAbort: (listener: () => void) => void): void {
  const { body, contentType } = replyPayload(reply);
  const head = () => {
    res.writeStatus(`${reply.status} ${STATUS_CODES[reply.status] ?? ""}`);
    for (const [name, value] of Object.entries(replyHeaders(reply, contentType))) res.writeHeader(name, value);
  };
  if (!reply.stream) {
    res.cork(() => {
      head();
      res.end(body);
    });
    return;
  }
  res.cork(head);
  void sendStream(res, reply.stream, isAborted, onAbort);
}

/** Writes a streamed reply chunk by chunk; when uWS reports backpressure, waits until the socket drains (or the peer leaves). */
async function sendStream(res: HttpResponse, stream: AsyncIterable<string>, isAborted: () => boolean, onAbort: (listener: () => void) => void): Promise<void> {
  try {
    for await (const chunk of stream) {
      if (isAborted()) return;
      let written = true;
      res.cork(() => (written = res.write(chunk)));
      if (!written) {
        await new Promise<void>((resolve) => {
          onAbort(resolve);
          res.onWritable(() => {
            resolve();
            return true;
          });
        });
      }
    }
    if (!isAborted()) res.cork(() => res.end());
  } catch {
    // A failure mid-stream cannot change the status any more: cut the response short.
    if (!isAborted()) res.close();
  }
}

/** Socket.IO on uWebSockets.js via `io.attachApp`; REST routes live on the same uWS App. */
export function createUwsTransport(options: TransportOptions): Transport {
  const uws = loadUws();
  const app = uws.App();
  let listenSocket: unknown;

  // Static routes (Socket.IO's /socket.io/) take precedence over this wildcard in uWS.
  app.any("/*", (res, req) => {
    // uWS request objects die when this callback returns: copy what is needed first.
    const method = req.getMethod().toUpperCase();
    const path = req.getUrl();
    const query = new URLSearchParams(req.getQuery() ?? "");
    const headers: Record<string, string> = {};
    req.forEach((key, value) => (headers[key] = value));
    const forwarded = forwardedFor(req);
    if (forwarded !== undefined) headers[FORWARDED_FOR] = forwarded;
    const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
    let aborted = false;
    const abortListeners: Array<() => void> = [];
    res.onAborted(() => {
      aborted = true;
      for (const listener of abortListeners.splice(0)) listener();
    });

    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (reply: HttpReply) =>
      !aborted &&
      send(
        res,
        reply,
        () => aborted,
        (listener) => abortListeners.push(listener),
      );
    res.onData((chunk, isLast) => {
      if (size > MAX_BODY_BYTES) return;
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) return finish(errorReply(new CoachwireError("PAYLOAD_TOO_LARGE")));
      chunks.push(Buffer.from(chunk.slice(0))); // uWS reuses the chunk's memory
      if (!isLast) return;
      const body = Buffer.concat(chunks);
      const ip = options.clientIp(remote, forwarded);
      options.handle({ method, path, query, params: {}, headers, ip, body }).then(finish, (err) => finish(errorReply(err)));
    });
  });

  return {
    kind: "uws",
    attach(io: Server) {
      // uWS skips a socket past maxBackpressure during a publish without telling anyone, and
      // engine.io's attach does not pass closeOnBackpressureLimit through: add it to the
      // WebSocket route engine.io registers, so such a socket is closed instead. Its client
      // reconnects and resumes by seq; nothing is silently lost.
      const ws = app.ws.bind(app);
      app.ws = ((pattern: string, behavior: Record<string, unknown>) =>
        ws(pattern, { ...behavior, closeOnBackpressureLimit: 1 } as never)) as typeof app.ws;
      io.attachApp(app, { maxBackpressure: options.slowConsumerBytes } as Parameters<Server["attachApp"]>[1]);
      // engine.io's uWS server keeps only the last of repeated headers in the handshake's
      // headers; join X-Forwarded-For lines as for routes, so the handshake sees every hop.
      const engine = io.engine as unknown as { prepare(req: UwsRequest & { headers: Record<string, string> }, res: unknown): void };
      const prepare = engine.prepare.bind(engine);
      engine.prepare = (req, res) => {
        prepare(req, res);
        const forwarded = forwardedFor(req);
        if (forwarded !== undefined) req.headers[FORWARDED_FOR] = forwarded;
      };
    },
    closesSlowConsumers: true,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        // uWS listens with SO_REUSEPORT unless told otherwise, so a second process on the same
        // port would share its connections. The native listen takes (host, port, options, cb);
        // the typings only know (port, options, cb).
        const exclusiveListen = app.listen as unknown as (h: string, p: number, o: number, cb: (s: unknown) => void) => void;
        exclusiveListen.call(app, host, port, (uws as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
          if (socket) {
            listenSocket = socket;
            return resolve(uws.us_socket_local_port(socket as never));
          }
          // uWS says only "no"; ask the kernel whether the address is taken.
          void portTaken(host, port).then((taken) => reject(taken ? new PortInUseError(host, port) : new Error(`could not listen on ${host}:${port}`)));
        });
      });
    },
    close() {
      if (listenSocket) uws.us_listen_socket_close(listenSocket as never);
      listenSocket = undefined;
    },
    bufferedAmount(socket: Socket) {
      // engine.io's uWS transport keeps the uWS WebSocket on `socket`.
      const ws = (socket.conn.transport as unknown as { socket?: { getBufferedAmount(): number } }).socket;
      return ws?.getBufferedAmount() ?? 0;
    },
  };
}
