import type { ExtendedError } from "socket.io";
import { CoachwireError, toWireError } from "../../protocol/errors.ts";
import type { AuthService } from "../auth/auth-service.ts";
import type { ClientAddress } from "../http/client-address.ts";
import type { CoachServer } from "./socket-types.ts";

/**
 * Refuses any connection without a valid, unexpired, unrevoked access token in
 * `auth.token`. The client's `connect_error` carries the catalog error in `err.data`.
 */
export function requireAccessToken(io: CoachServer, auth: AuthService, isDraining: () => boolean, clientIp: ClientAddress): void {
  io.use((socket, next) => {
    const forwarded = socket.handshake.headers["x-forwarded-for"];
    socket.data.ip = clientIp(socket.handshake.address, Array.isArray(forwarded) ? forwarded.join(", ") : forwarded);
    if (isDraining()) return next(refusal(new CoachwireError("UNAVAILABLE", "The server is draining; connect again")));
    const token = (socket.handshake.auth as Record<string, unknown> | undefined)?.["token"];
    auth.verify(token).then(
      (principal) => {
        socket.data.principal = principal;
        next();
      },
      (err) => next(refusal(err)),
    );
  });
}

function refusal(err: unknown): ExtendedError {
  const wire = toWireError(err);
  return Object.assign(new Error(wire.message), { data: wire });
}
