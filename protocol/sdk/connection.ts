import { io, type Socket } from "socket.io-client";
import { isErrorCode, type WireError } from "../errors.ts";
import type { ClientToServerEvents, DisconnectReason, ServerToClientEvents, SessionClosing } from "../events.ts";
import { msgpackParser, type WireFormat } from "../parser.ts";
import { fromHint, sleep } from "./backoff.ts";

/** The pause before reconnecting after a retryable handshake refusal (draining, rate limited, unavailable). */
const HANDSHAKE_RETRY_MS = 250;
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
  /** Upper bound of the random delay added before reconnecting after a server-side close. */
  reconnectJitterMs: number;
}

/**
 * One session's socket and its lifecycle. socket.io-client reconnects by itself after a
 * transport failure (with its own jittered backoff); this adds what it does not do:
 * - after the server closed the connection, follow its `session:closing` notice: reconnect
 *   (after renewing the token for "token expired", after `retryAfterMs` plus jitter for "rate
 *   limited") or end the session for a terminal reason;
 * - after a refused handshake, renew an expired token and connect again, retry a refusal that
 *   may pass (draining, rate limited, unavailable) after a jittered pause, or end the session.
 */
export class Connection {
  readonly socket: TypedSocket;
  private closedFor: string | undefined;
  private lastNotice: SessionClosing | undefined;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly tokens: TokenKeeper,
    private readonly listener: ConnectionListener,
  ) {
    this.socket = io(options.url, {
      transports: ["websocket"],
      autoConnect: false,
      reconnectionDelay: 250,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      auth: (cb) => cb({ token: this.tokens.accessToken }),
      ...(options.parser === "msgpack" ? { parser: msgpackParser } : {}),
    });
    this.socket.on("connect", () => {
      this.lastNotice = undefined;
      this.listener.connected();
    });
    this.socket.on("session:closing", (notice) => (this.lastNotice = notice));
    this.socket.on("disconnect", (reason) => this.onDisconnect(reason));
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
    this.socket.connect();
  }

  /** Ends the session from this side: no reconnect follows. */
  close(): void {
    this.closedFor = "closed by client";
    this.socket.disconnect();
  }

  private onDisconnect(reason: string): void {
    this.listener.disconnected(reason);
    if (this.closedFor || reason !== "io server disconnect") return; // socket.io-client reconnects by itself
    const notice = this.lastNotice;
    if (!notice?.reconnect) {
      this.closedFor = notice?.reason ?? "server closed the session";
      this.listener.closed(notice?.reason ?? "banned");
      return;
    }
    void this.reconnectAfterServerClose(notice.reason, notice.retryAfterMs ?? 0);
  }

  private async reconnectAfterServerClose(reason: DisconnectReason, retryAfterMs: number): Promise<void> {
    if (reason === "token expired") await this.tokens.refresh();
    // "rate limited" comes with a backoff: a handshake sooner than that is refused.
    await sleep(fromHint({ afterMs: retryAfterMs, windowMs: this.options.reconnectJitterMs }, Math.random()));
    if (!this.closedFor) this.socket.connect();
  }

  private async onConnectError(err: Error & { data?: unknown }): Promise<void> {
    if (this.closedFor || this.socket.active) return; // a transport failure: socket.io-client retries
    const data = err.data as Partial<WireError> | undefined;
    const code = data && isErrorCode(data.code) ? data.code : "UNAUTHENTICATED";
    if (code === "TOKEN_EXPIRED" && (await this.tokens.refresh())) return void this.socket.connect();
    // Draining, rate limited, or a dependency briefly away: try again after a jittered pause.
    if (code !== "TOKEN_EXPIRED" && data?.retryable === true) {
      await sleep(fromHint({ afterMs: HANDSHAKE_RETRY_MS, windowMs: this.options.reconnectJitterMs }, Math.random()));
      return void this.socket.connect();
    }
    this.closedFor = code;
    this.listener.closed(code);
  }
}
