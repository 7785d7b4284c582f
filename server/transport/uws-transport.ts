import { createRequire } from "node:module";
import { STATUS_CODES } from "node:http";
import type { Server, Socket } from "socket.io";
import { CoachwireError } from "../../protocol/errors.ts";
import { MAX_BODY_BYTES, clientIp, errorReply, type HttpReply } from "../http/route.ts";
import { replyHeaders, replyPayload, type Transport, type TransportOptions } from "./transport.ts";

type Uws = typeof import("@trufflesuite/uws-js-unofficial");
type HttpResponse = import("@trufflesuite/uws-js-unofficial").HttpResponse;

/** Loads uWebSockets.js; throws when its native binary does not fit this platform or Node. */
export function loadUws(): Uws {
  return createRequire(import.meta.url)("@trufflesuite/uws-js-unofficial") as Uws;
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
      const ip = clientIp(remote, headers, options.trustProxy);
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
    },
    closesSlowConsumers: true,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        app.listen(host, port, (socket) => {
          if (!socket) return reject(new Error(`could not listen on ${host}:${port}`));
          listenSocket = socket;
          resolve(uws.us_socket_local_port(socket));
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
