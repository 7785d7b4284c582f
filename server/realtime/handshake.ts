import type { ExtendedError } from "socket.io";
import { CoachwireError, toWireError } from "../../protocol/errors.ts";
import type { AuthService } from "../auth/auth-service.ts";
import { catalogError } from "../error-mapping.ts";
import { clientIp } from "../http/route.ts";
import type { CoachServer } from "./socket-types.ts";

/**
 * Refuses any connection without a valid, unexpired, unrevoked access token in
 * `auth.token`. The client's `connect_error` carries the catalog error in `err.data`.
 */
export function requireAccessToken(io: CoachServer, auth: AuthService, isDraining: () => boolean, trustProxy: boolean): void {
  io.use((socket, next) => {
    socket.data.ip = clientIp(socket.handshake.address, socket.handshake.headers as Record<string, string>, trustProxy);
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
  const wire = toWireError(catalogError(err));
  return Object.assign(new Error(wire.message), { data: wire });
}
