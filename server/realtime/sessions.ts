import type { Logger } from "pino";
import { RECONNECT_REASONS, type DisconnectReason } from "../../protocol/events.ts";
import { userChannel } from "../log/audience.ts";
import type { CoachServer, CoachSocket } from "./socket-types.ts";

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

  /** Closes every socket of this process (drain). */
  closeAll(reason: DisconnectReason): void {
    for (const socket of this.io.of("/").sockets.values()) this.close(socket, reason);
  }

  /** Says why (`session:closing`, with a backoff hint when given), then disconnects. */
  close(socket: CoachSocket, reason: DisconnectReason, retryAfterMs?: number): void {
    if (!socket.connected) return;
    this.logger.debug({ socket: socket.id, user: socket.data.principal.userId, reason }, "closing session");
    socket.emit("session:closing", { reason, reconnect: RECONNECT_REASONS.has(reason), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
    socket.disconnect(true);
  }

  get count(): number {
    return this.io.of("/").sockets.size;
  }
}

/** Adds the socket to `index[key]`; returns what removes it again. */
function track(index: Map<string, Set<CoachSocket>>, key: string, socket: CoachSocket): () => void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(socket);
  return () => {
    set.delete(socket);
    if (set.size === 0) index.delete(key);
  };
}
