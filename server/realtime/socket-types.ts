import type { Server, Socket } from "socket.io";
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents } from "../../protocol/events.ts";
import type { Principal } from "../auth/auth-service.ts";

/** Per-socket state set by the handshake. */
export interface SocketData {
  principal: Principal;
  /** The client's address (the first X-Forwarded-For hop when the proxy is trusted). */
  ip: string;
  /** Ends this connection's admission (server/realtime/admission.ts) once its first join or resume is answered. */
  admitted?: () => void;
}

export type CoachServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type CoachSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
