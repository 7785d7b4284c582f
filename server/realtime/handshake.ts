import type { ExtendedError } from "socket.io";
import { CoachwireError, toWireError, type WireError } from "../../protocol/errors.ts";
import type { AuthService } from "../auth/auth-service.ts";
import { catalogError } from "../error-mapping.ts";
import type { ClientAddress } from "../http/client-address.ts";
import type { Admission, Admitted } from "./admission.ts";
import { backoffHint, type FloodGuard } from "./flood-guard.ts";
import type { HandshakeGuard } from "./handshake-guard.ts";
import type { CoachServer, CoachSocket } from "./socket-types.ts";
import type { UserSocketCap } from "./user-socket-cap.ts";

/** What the handshake checks besides the token. */
export interface HandshakeContext {
  auth: AuthService;
  isDraining(): boolean;
  clientIp: ClientAddress;
  guard: HandshakeGuard;
  flood: FloodGuard;
  cap: UserSocketCap;
  /** Admits handshakes at the rate the process can serve them (before any token is checked). */
  admission: Admission;
  /** Told of each admission verdict (metrics). */
  onAdmission?(verdict: "admitted" | "rate" | "in-flight"): void;
  /** Told of each refused handshake, by code (metrics). */
  onRefused?(code: string): void;
}

/**
 * Refuses any connection without a valid, unexpired, unrevoked access token in `auth.token`.
 * The client's `connect_error` carries the catalog error in `err.data`, and then the server
 * closes the connection: a refused client cannot keep sending CONNECT packets on it. In order,
 * before any token is verified: one CONNECT per connection (a second one closes the connection
 * without an answer), not while draining, and not from an
 * IP out of failed-handshake budget, and not beyond what admission control admits now (refused
 * UNAVAILABLE with a retry hint); after it: not for a user in flood backoff, and not past the
 * user's socket cap. Every refusal but draining and admission is charged to the IP's failure
 * budget. Every retryable refusal says when to come back (`retryAfterMs`, `retryWindowMs`).
 */
export function requireAccessToken(io: CoachServer, ctx: HandshakeContext): void {
  const attempted = new WeakSet<object>();
  const repeated = new WeakSet<object>();
  io.use((socket, next) => {
    const forwarded = socket.handshake.headers["x-forwarded-for"];
    const ip = ctx.clientIp(socket.handshake.address, Array.isArray(forwarded) ? forwarded.join(", ") : forwarded);
    socket.data.ip = ip;
    const refuse = (err: CoachwireError | unknown, charge = true) => {
      if (charge) ctx.guard.failed(ip);
      const error = refusal(err);
      ctx.onRefused?.(error.data.code);
      next(error);
      // After Socket.IO has written the CONNECT_ERROR (it does so on the next tick): engine.io
      // flushes what is queued, then closes.
      setImmediate(() => socket.conn.close());
    };
    if (attempted.has(socket.conn)) {
      // A second CONNECT on one connection: a protocol violation, answered by closing at once
      // (no CONNECT_ERROR for each of a burst), and charged once.
      if (!repeated.has(socket.conn)) ctx.guard.failed(ip);
      repeated.add(socket.conn);
      ctx.onRefused?.("second CONNECT");
      socket.conn.close();
      return next(refusal(new CoachwireError("BAD_REQUEST", "One handshake per connection")));
    }
    attempted.add(socket.conn);
    if (ctx.isDraining()) return refuse(new CoachwireError("UNAVAILABLE", "The server is draining; connect again"), false);
    const wait = ctx.guard.retryAfterMs(ip);
    if (wait > 0) {
      return refuse(new CoachwireError("RATE_LIMITED", `Too many failed handshakes from this address; retry in ${wait} ms`, { afterMs: wait, windowMs: 1000 }), false);
    }
    const admitted = ctx.admission.admit(() => socket.conn.readyState === "open");
    if (admitted instanceof Promise) void admitted.then(checkToken);
    else checkToken(admitted);

    /** After admission (at once, or after its turn in line): the token, then the user's flood backoff and socket cap. */
    function checkToken(verdict: Admitted): void {
      ctx.onAdmission?.(verdict.admitted ? "admitted" : verdict.cause);
      if (!verdict.admitted) {
        const { afterMs, windowMs } = verdict.retry;
        return refuse(new CoachwireError("UNAVAILABLE", `The server is busy; retry in ${afterMs}–${afterMs + windowMs} ms`, verdict.retry), false);
      }
      // In flight until its first join or resume is answered (the router calls it), or it goes.
      socket.data.admitted = verdict.release;
      holdSlot(socket, verdict.release);
      const token = (socket.handshake.auth as Record<string, unknown> | undefined)?.["token"];
      ctx.auth.verify(token).then(
        (principal) => {
          // Closed meanwhile (a second CONNECT, the handshake timeout): take no slot it would never give back.
          if (socket.conn.readyState !== "open") return next(refusal(new CoachwireError("BAD_REQUEST", "The connection closed")));
          const backoff = ctx.flood.backoffMs(principal.userId, performance.now());
          if (backoff > 0) return refuse(new CoachwireError("RATE_LIMITED", `Closed for flooding; retry in ${backoff} ms`, backoffHint(backoff)));
          const release = ctx.cap.take(principal.userId);
          if (!release) return refuse(new CoachwireError("TOO_MANY_CONNECTIONS"));
          holdSlot(socket, release);
          socket.data.principal = principal;
          next();
        },
        (err) => refuse(err),
      );
    }
  });
}

/** Gives a slot (the user's socket cap, admission's in-flight count) back when the socket goes, or its connection closes before it ever connected. */
function holdSlot(socket: CoachSocket, release: () => void): void {
  socket.once("disconnect", release);
  socket.conn.once("close", release);
}

function refusal(err: unknown): ExtendedError & { data: WireError } {
  const wire = toWireError(catalogError(err));
  // No stack trace: a refusal is an answer, and storms refuse by the thousand.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const error = new Error(wire.message);
  Error.stackTraceLimit = limit;
  return Object.assign(error, { data: wire });
}
