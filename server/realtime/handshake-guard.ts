import type { IncomingHttpHeaders } from "node:http";
import type { ClientAddress } from "../http/client-address.ts";

/** What the guard needs from the configuration. */
export interface HandshakeGuardOptions {
  /** Failed handshakes an IP may have per minute (a token bucket of this many, refilled per minute). */
  failuresPerMin: number;
  /** Connections from one IP that have not completed the handshake, at a time. */
  pendingPerIp: number;
  /** How the client address is found (COACHWIRE_TRUST_PROXY, COACHWIRE_TRUSTED_PROXIES). */
  clientIp: ClientAddress;
  /** Sources exempt from both limits (COACHWIRE_TRUSTED_CIDRS). */
  isTrusted(ip: string): boolean;
}

/** The request engine.io hands to `allowRequest` (uWS and node:http alike carry these). */
export interface EngineRequest {
  headers: IncomingHttpHeaders;
  connection?: { remoteAddress?: string };
  socket?: { remoteAddress?: string };
}

/** An engine.io connection as far as the guard cares: its request, and its close. */
export interface EngineConnection {
  request: EngineRequest;
  readyState: string;
  once(event: "close", listener: () => void): unknown;
  close(): void;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The cheap defences in front of the token check, all in process memory (an attacker's
 * packets must not cost a Redis round trip or any crypto):
 * - failed handshakes are rationed per IP; an IP out of budget is refused at the HTTP upgrade
 *   and at the CONNECT packet before its token is looked at;
 * - an IP holds at most `pendingPerIp` connections that have not authenticated yet.
 * (The time limit on an unauthenticated connection is Socket.IO's `connectTimeout`.)
 */
export class HandshakeGuard {
  private readonly failures = new Map<string, Bucket>();
  private readonly pending = new Map<string, number>();
  private readonly pendingConns = new WeakMap<EngineConnection, string>();
  private readonly sweeper = setInterval(() => this.sweep(), 60_000).unref();

  constructor(private readonly options: HandshakeGuardOptions) {}

  /** The client address of an engine.io request, as the handshake and the limits see it. */
  ipOf(req: EngineRequest): string {
    const remote = req.connection?.remoteAddress ?? req.socket?.remoteAddress ?? "";
    const forwarded = req.headers["x-forwarded-for"];
    return this.options.clientIp(remote, Array.isArray(forwarded) ? forwarded.join(", ") : forwarded);
  }

  /** engine.io's `allowRequest`: refuses a new connection from an IP out of failure budget or with too many pending. */
  allowRequest = (req: EngineRequest, callback: (message: string | null, ok: boolean) => void): void => {
    const ip = this.ipOf(req);
    if (this.options.isTrusted(ip)) return callback(null, true);
    const wait = this.retryAfterMs(ip);
    if (wait > 0) return callback(`RATE_LIMITED: too many failed handshakes from this address; retry in ${wait} ms`, false);
    if ((this.pending.get(ip) ?? 0) >= this.options.pendingPerIp) {
      return callback(`RATE_LIMITED: too many connections from this address are still unauthenticated`, false);
    }
    callback(null, true);
  };

  /** A new engine.io connection: it counts as pending until {@link authenticated} or its close. */
  opened(conn: EngineConnection): void {
    const ip = this.ipOf(conn.request);
    if (this.options.isTrusted(ip)) return;
    const count = (this.pending.get(ip) ?? 0) + 1;
    this.pending.set(ip, count);
    this.pendingConns.set(conn, ip);
    conn.once("close", () => this.authenticated(conn));
    // allowRequest and the connection are not atomic: a burst may slip past the check; close the excess.
    if (count > this.options.pendingPerIp) conn.close();
  }

  /** The connection passed the handshake (or closed): it no longer counts as pending. */
  authenticated(conn: EngineConnection): void {
    const ip = this.pendingConns.get(conn);
    if (ip === undefined) return;
    this.pendingConns.delete(conn);
    const left = (this.pending.get(ip) ?? 1) - 1;
    if (left <= 0) this.pending.delete(ip);
    else this.pending.set(ip, left);
  }

  /** 0 when the IP may try a handshake; else how long until it may. */
  retryAfterMs(ip: string): number {
    if (this.options.isTrusted(ip)) return 0;
    const bucket = this.refilled(ip, performance.now());
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.ceil(((1 - bucket.tokens) / this.rate) * 1000);
  }

  /** Charges one failed handshake to the IP. */
  failed(ip: string): void {
    if (this.options.isTrusted(ip)) return;
    const now = performance.now();
    const bucket = this.refilled(ip, now) ?? { tokens: this.options.failuresPerMin, at: now };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.failures.set(ip, bucket);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private get rate(): number {
    return this.options.failuresPerMin / 60;
  }

  private refilled(ip: string, now: number): Bucket | undefined {
    const bucket = this.failures.get(ip);
    if (!bucket) return undefined;
    bucket.tokens = Math.min(this.options.failuresPerMin, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    return bucket;
  }

  private sweep(): void {
    const now = performance.now();
    for (const [ip] of this.failures) {
      if (this.refilled(ip, now)!.tokens >= this.options.failuresPerMin) this.failures.delete(ip);
    }
  }
}
