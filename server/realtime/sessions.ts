import type { Logger } from "pino";
import { RECONNECT_REASONS, type DisconnectReason } from "../../protocol/events.ts";
import type { RetryHint } from "../../protocol/errors.ts";
import { userChannel } from "../log/audience.ts";
import type { CoachServer, CoachSocket } from "./socket-types.ts";

/** A drain moves at least this many clients a second, whatever its spread (a handful go at once). */
export const DRAIN_MIN_RATE_PER_S = 200;
/** A moved client reconnects within this window (the drain already spreads them). */
const DRAIN_RECONNECT_WINDOW_MS = 500;
/** The hint of a reconnect-class close that names none (a slow consumer, an expired token): soon, spread over a second. */
const RECONNECT_HINT: RetryHint = { afterMs: 0, windowMs: 1000 };
/** Sockets due within this much of each other are told in the same turn. */
const DRAIN_TICK_MS = 10;

/**
 * The process's live sockets by access token and by token family, and the one way the server ends a session:
 * say why (`session:closing`, which tells the SDK whether to come back), then disconnect.
 */
export class Sessions {
  private readonly byToken = new Map<string, Set<CoachSocket>>();
  private readonly byFamily = new Map<string, Set<CoachSocket>>();
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly io: CoachServer,
    private readonly logger: Logger,
  ) {}

  /** Tracks a socket that passed the handshake and arranges its close when the token expires. */
  add(socket: CoachSocket): void {
    const { jti, expiresAt } = socket.data.principal;
    let set = this.byToken.get(jti);
    if (!set) this.byToken.set(jti, (set = new Set()));
    set.add(socket);
    const { familyId } = socket.data.principal;
    let family: Set<CoachSocket> | undefined;
    if (familyId !== undefined) {
      family = this.byFamily.get(familyId);
      if (!family) this.byFamily.set(familyId, (family = new Set()));
      family.add(socket);
    }
    const timer = setTimeout(() => this.close(socket, "token expired"), Math.max(0, expiresAt - Date.now()));
    this.expiryTimers.set(socket.id, timer);
    socket.once("disconnect", () => {
      clearTimeout(this.expiryTimers.get(socket.id));
      this.expiryTimers.delete(socket.id);
      set.delete(socket);
      if (set.size === 0) this.byToken.delete(jti);
      family?.delete(socket);
      if (family?.size === 0) this.byFamily.delete(familyId!);
    });
  }

  /** Closes every socket that uses the given access token. */
  closeToken(jti: string, reason: DisconnectReason): void {
    for (const socket of this.byToken.get(jti) ?? []) this.close(socket, reason);
  }

  /** Closes the user's sockets whose access token was signed before `beforeMs`. */
  closeUser(userId: string, beforeMs: number, reason: DisconnectReason): void {
    for (const id of this.io.of("/").adapter.rooms.get(userChannel(userId)) ?? []) {
      const socket = this.io.of("/").sockets.get(id);
      if (socket && socket.data.principal.issuedAt < beforeMs) this.close(socket, reason);
    }
  }

  /** Closes every socket whose access token belongs to the given login session (refresh-token family). */
  closeFamily(familyId: string, reason: DisconnectReason): void {
    for (const socket of this.byFamily.get(familyId) ?? []) this.close(socket, reason);
  }

  /** Closes every socket of this process at once (the end of a drain: whoever is still here). */
  closeAll(reason: DisconnectReason): void {
    for (const socket of this.io.of("/").sockets.values()) this.close(socket, reason);
  }

  /**
   * Tells every socket of this process to move (a drain), spread evenly over at most `spreadMs`
   * — and never slower than {@link DRAIN_MIN_RATE_PER_S}, so a few sockets go at once — instead
   * of all in one instant: the processes that take them over admit them as they come, each
   * moved user resumes at full speed, and the users left on this process are served meanwhile.
   * Each is told to come back within a short window of its own. Resolves with how many were told.
   */
  async moveAll(reason: DisconnectReason, spreadMs: number, onMoved: () => void = () => {}): Promise<number> {
    const sockets = [...this.io.of("/").sockets.values()];
    const durationMs = Math.min(spreadMs, (sockets.length / DRAIN_MIN_RATE_PER_S) * 1000);
    const started = performance.now();
    let told = 0;
    for (let i = 0; i < sockets.length; i++) {
      const due = (i / sockets.length) * durationMs;
      const wait = due - (performance.now() - started);
      if (wait >= DRAIN_TICK_MS) await new Promise((r) => setTimeout(r, wait));
      const socket = sockets[i]!;
      if (!socket.connected) continue;
      this.close(socket, reason, { afterMs: 0, windowMs: DRAIN_RECONNECT_WINDOW_MS });
      told++;
      onMoved();
    }
    return told;
  }

  /** Says why (`session:closing`, with a retry hint when given), then disconnects. */
  close(socket: CoachSocket, reason: DisconnectReason, retry?: RetryHint): void {
    if (!socket.connected) return;
    this.logger.debug({ socket: socket.id, user: socket.data.principal.userId, reason }, "closing session");
    const reconnect = RECONNECT_REASONS.has(reason);
    // Every reconnect-class close says when to come back; a terminal one has nothing to say.
    const when = reconnect ? (retry ?? RECONNECT_HINT) : undefined;
    const hint = when ? { retryAfterMs: Math.round(when.afterMs), retryWindowMs: Math.round(when.windowMs) } : {};
    socket.emit("session:closing", { reason, reconnect, ...hint });
    socket.disconnect(true);
  }

  get count(): number {
    return this.io.of("/").sockets.size;
  }
}
