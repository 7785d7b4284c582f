import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Server, Socket } from "socket.io";
import { CoachwireError } from "../../protocol/errors.ts";
import { MAX_BODY_BYTES, errorReply } from "../http/route.ts";
import { PortInUseError, replyHeaders, replyPayload, type Transport, type TransportOptions } from "./transport.ts";

/** The fallback when uWS cannot load: Socket.IO on node:http with the `ws` engine. */
export function createNodeTransport(options: TransportOptions): Transport {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Socket.IO answers its own path; everything else is a route.
    if (req.url?.startsWith("/socket.io/")) return;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
      );
      // node:http has already joined repeated X-Forwarded-For headers with ", ".
      const ip = options.clientIp(req.socket.remoteAddress ?? "", headers["x-forwarded-for"]);
      const url = new URL(req.url ?? "/", "http://localhost");
      const reply =
        size > MAX_BODY_BYTES
          ? Promise.resolve(errorReply(new CoachwireError("PAYLOAD_TOO_LARGE")))
          : options.handle({ method: req.method ?? "GET", path: url.pathname, query: url.searchParams, params: {}, headers, ip, body: Buffer.concat(chunks) });
      reply.catch(errorReply).then(async (r) => {
        const { body, contentType } = replyPayload(r);
        res.writeHead(r.status, replyHeaders(r, contentType));
        if (!r.stream) return void res.end(body);
        try {
          for await (const chunk of r.stream) {
            if (res.destroyed) return;
            if (!res.write(chunk)) await drainedOrClosed(res);
          }
          res.end();
        } catch {
          // Mid-stream the status is already sent: cut the response short.
          res.destroy();
        }
      });
    });
  });

  return {
    kind: "node",
    // ws buffers without limit: the slow-consumer sweep closes sockets that fall behind.
    closesSlowConsumers: false,
    attach(io: Server) {
      io.attach(server);
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? new PortInUseError(host, port) : err));
        // exclusive: in a node:cluster worker, do not share the primary's handle with siblings.
        server.listen({ port, host, exclusive: true }, () => resolve((server.address() as AddressInfo).port));
      });
    },
    close() {
      server.close();
    },
    bufferedAmount(socket: Socket) {
      const ws = (socket.conn.transport as unknown as { socket?: { bufferedAmount?: number } }).socket;
      return ws?.bufferedAmount ?? 0;
    },
  };
}

/** Resolves when the response can take more (drain) or is gone (close), leaving no listener behind. */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
