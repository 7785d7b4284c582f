import { io, type Socket } from "socket.io-client";
import { isErrorCode, type RetryHint, type WireError } from "../errors.ts";
import type { ClientToServerEvents, DisconnectReason, ServerToClientEvents, SessionClosing } from "../events.ts";
import { msgpackParser, type WireFormat } from "../parser.ts";
import { hintOf, RECONNECT_BACKOFF, retryDelay } from "./backoff.ts";
import type { TokenKeeper } from "./tokens.ts";

/** The socket.io-client socket, typed by the protocol's event maps. */
export type TypedSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Why a session ended for good: a terminal close reason, or the handshake's refusal code. */
export type ClosedReason = DisconnectReason | WireError["code"];

/** What the connection tells the client it belongs to. */
export interface ConnectionListener {
  /** A handshake succeeded (the first one or after any reconnect). */
  connected(): void;
  /** The connection dropped; it is being re-established. */
  disconnected(reason: string): void;
  /** The session ended for good; no reconnect follows. */
  closed(reason: ClosedReason): void;
}

export interface ConnectionOptions {
  url: string;
  parser: WireFormat;
  /** How far to spread a reconnect after a server's `retryAfterMs` that came without `retryWindowMs`. */
  reconnectJitterMs: number;
}

// Disconnect reasons that are not a transport failure: the server closed the session (its
// `session:closing` says what to do) or this side did (close()).
const SERVER_CLOSE = "io server disconnect";
const CLIENT_CLOSE = "io client disconnect";

/**
 * One session's socket and its lifecycle. The SDK reconnects by itself (socket.io-client's own
 * reconnection is off), so that every kind of drop waits on one policy and the server's retry
 * hints are honoured:
 * - after a transport failure (network gone, server process gone, the engine could not open),
 *   reconnect with full-jitter backoff by attempt (RECONNECT_BACKOFF);
 * - after the server closed the connection, follow its `session:closing` notice: end the session
 *   for a terminal reason; otherwise (after renewing the token for "token expired") reconnect
 *   after the notice's hint, else with backoff;
 * - after a refused handshake, renew an expired token and connect again, retry a refusal that may
 *   pass (draining, rate limited, unavailable) after its hint, else with backoff, or end the
 *   session.
 * A successful connect resets the attempt count; close() cancels a reconnect that is waiting.
 */
export class Connection {
  readonly socket: TypedSocket;
  private closedFor: string | undefined;
  private lastNotice: SessionClosing | undefined;
  /** Reconnects scheduled since the last successful connect: widens the backoff. */
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly tokens: TokenKeeper,
    private readonly listener: ConnectionListener,
  ) {
    this.socket = io(options.url, {
      transports: ["websocket"],
      autoConnect: false,
      // With reconnection off, socket.io-client's Manager never retries (neither after a dropped
      // transport nor after an engine that failed to open), and socket.connect() opens a new engine
      // whenever the last one is closed: the schedule below is the only one.
      reconnection: false,
      auth: (cb) => cb({ token: this.tokens.accessToken }),
      ...(options.parser === "msgpack" ? { parser: msgpackParser } : {}),
    });
    this.socket.on("connect", () => {
      this.lastNotice = undefined;
      this.attempt = 0;
      this.listener.connected();
    });
    this.socket.on("session:closing", (notice) => (this.lastNotice = notice));
    this.socket.on("disconnect", (reason) => void this.onDisconnect(reason));
    this.socket.on("connect_error", (err) => void this.onConnectError(err as Error & { data?: unknown }));
  }

  /** Why the session ended for good; undefined while it lasts. */
  get closedReason(): string | undefined {
    return this.closedFor;
  }

  /** Whether the socket is connected now. */
  get connected(): boolean {
    return this.socket.connected;
  }

  /** Starts (or restarts) the handshake. */
  open(): void {
    this.cancelReconnect();
    this.socket.connect();
  }

  /** Ends the session from this side: no reconnect follows. */
  close(): void {
    this.closedFor = "closed by client";
    this.cancelReconnect();
    this.socket.disconnect();
  }

  private async onDisconnect(reason: string): Promise<void> {
    this.listener.disconnected(reason);
    if (this.closedFor || reason === CLIENT_CLOSE) return;
    const notice = this.lastNotice;
    this.lastNotice = undefined;
    // A notice says what the server wants even when the transport closed before its disconnect
    // packet was read; without one, a server close is terminal (as before) and anything else is
    // a transport failure.
    if (!notice) return reason === SERVER_CLOSE ? this.end("banned", "server closed the session") : this.reconnectLater(undefined);
    if (!notice.reconnect) return this.end(notice.reason, notice.reason);
    if (notice.reason === "token expired") await this.tokens.refresh();
    this.reconnectLater(hintOf(notice, this.options.reconnectJitterMs));
  }

  private async onConnectError(err: Error & { data?: unknown }): Promise<void> {
    if (this.closedFor) return;
    // A refused handshake (CONNECT_ERROR) unsubscribes the socket; a socket still active met a
    // transport failure (server down, connection refused, open timed out), which carries no data.
    if (this.socket.active) return this.reconnectLater(undefined);
    const data = err.data as Partial<WireError> | undefined;
    const code = data && isErrorCode(data.code) ? data.code : "UNAUTHENTICATED";
    if (code === "TOKEN_EXPIRED") {
      if (!(await this.tokens.refresh())) return this.end(code, code);
      // Renewed: again at once, or within the hint's small window (a class's tokens expire together).
      const hint = hintOf(data, this.options.reconnectJitterMs);
      return hint ? this.reconnectLater(hint) : this.reconnectNow();
    }
    // Draining, rate limited, over capacity, a dependency briefly away: come back when told.
    if (data?.retryable === true) return this.reconnectLater(hintOf(data, this.options.reconnectJitterMs));
    this.end(code, code);
  }

  private end(reason: ClosedReason, closedFor: string): void {
    this.closedFor = closedFor;
    this.cancelReconnect();
    this.listener.closed(reason);
  }

  /** Schedules the next handshake: after the server's hint, else full-jitter backoff by attempt. */
  private reconnectLater(hint: RetryHint | undefined): void {
    if (this.closedFor) return;
    const delay = retryDelay(hint, RECONNECT_BACKOFF, this.attempt++, Math.random());
    this.cancelReconnect();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.reconnectNow();
    }, delay);
  }

  private reconnectNow(): void {
    if (!this.closedFor && !this.socket.connected) this.socket.connect();
  }

  private cancelReconnect(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }
}
