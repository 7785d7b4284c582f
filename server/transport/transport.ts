import type { Server, Socket } from "socket.io";
import type { ClientAddress } from "../http/client-address.ts";
import type { HttpReply, HttpRequest } from "../http/route.ts";

/** Turns a transport-neutral request into a reply (the route table behind dispatch). */
export type RequestHandler = (req: HttpRequest) => Promise<HttpReply>;

export interface TransportOptions {
  handle: RequestHandler;
  /** Turns the peer address and X-Forwarded-For into the request's `ip`. */
  clientIp: ClientAddress;
  /** Bytes a socket may have queued before it counts as a slow consumer and is closed. */
  slowConsumerBytes: number;
}

/**
 * The HTTP + WebSocket server under Socket.IO. Quirks of each (uWebSockets.js, node:http + ws)
 * stay behind this interface: how routes are mounted, how a body is read, how Socket.IO is
 * attached, how much a socket has buffered.
 */
export interface Transport {
  readonly kind: "uws" | "node";
  attach(io: Server): void;
  /**
   * Starts listening, exclusively (no SO_REUSEPORT: a second server on the same port is an
   * error, not a silent split of the connections); resolves with the bound port (useful with
   * port 0), rejects with {@link PortInUseError} when the port is taken.
   */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting connections (open sockets are closed by Socket.IO). */
  close(): void;
  /** Bytes written to this socket that the peer has not taken yet. */
  bufferedAmount(socket: Socket): number;
  /** True when the transport itself closes a socket past slowConsumerBytes (uWS); else a sweep must. */
  readonly closesSlowConsumers: boolean;
}

/** Thrown by `listen` when the address is taken: another server (or program) listens there already. */
export class PortInUseError extends Error {
  override name = "PortInUseError";

  constructor(host: string, port: number) {
    super(`port ${port} on ${host} is already in use by another process (another coachwire server?); stop it or set COACHWIRE_PORT`);
  }
}

/** Serialises a reply body. */
export function replyPayload(reply: HttpReply): { body: string | Uint8Array; contentType: string } {
  if (reply.body instanceof Uint8Array) return { body: reply.body, contentType: reply.contentType ?? "application/octet-stream" };
  if (typeof reply.body === "string") return { body: reply.body, contentType: reply.contentType ?? "text/plain; charset=utf-8" };
  return { body: JSON.stringify(reply.body), contentType: reply.contentType ?? "application/json" };
}

/** The headers every reply carries: its content type, `no-store` unless the reply says otherwise, and its own. */
export function replyHeaders(reply: HttpReply, contentType: string): Record<string, string> {
  return { "content-type": contentType, "cache-control": "no-store", ...reply.headers };
}
