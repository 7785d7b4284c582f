import type { Logger } from "pino";
import { RECONNECT_REASONS, type DisconnectReason } from "../../protocol/events.ts";
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
    const { jti, familyId, expiresAt } = socket.data.principal;
    const untrack = [track(this.byToken, jti, socket), ...(familyId ? [track(this.byFamily, familyId, socket)] : [])];
    const timer = setTimeout(() => this.close(socket, "token expired"), Math.max(0, expiresAt - Date.now()));
    this.expiryTimers.set(socket.id, timer);
    socket.once("disconnect", () => {
      clearTimeout(this.expiryTimers.get(socket.id));
      this.expiryTimers.delete(socket.id);
      untrack.forEach((done) => done());
    });
  }

  /** Closes every socket that uses the given access token. */
  closeToken(jti: string, reason: DisconnectReason): void {
    for (const socket of this.byToken.get(jti) ?? []) this.close(socket, reason);
  }

  /** Closes every socket whose access token belongs to the given refresh-token family. */
  closeFamily(familyId: string, reason: DisconnectReason): void {
    for (const socket of this.byFamily.get(familyId) ?? []) this.close(socket, reason);
  }

  /** Closes every socket of this process (drain). */
  closeAll(reason: DisconnectReason): void {
    for (const socket of this.io.of("/").sockets.values()) this.close(socket, reason);
  }

  close(socket: CoachSocket, reason: DisconnectReason): void {
    if (!socket.connected) return;
    this.logger.debug({ socket: socket.id, user: socket.data.principal.userId, reason }, "closing session");
    socket.emit("session:closing", { reason, reconnect: RECONNECT_REASONS.has(reason) });
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
