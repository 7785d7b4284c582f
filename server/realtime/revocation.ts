import type { AuthService, Principal } from "../auth/auth-service.ts";
import type { DisconnectReason } from "../../protocol/events.ts";
import type { Sessions } from "./sessions.ts";
import type { CoachServer } from "./socket-types.ts";

/**
 * Revocation reaches every process: a revoked access token, a cut-off user (deactivated, password
 * changed) or a revoked login session closes its sockets here at once, and on the other
 * processes through the adapter (`shared`: there are others), where it also leaves their caches
 * of verified tokens (AuthService.verified).
 */
export function closeRevokedSessions(auth: AuthService, sessions: Sessions, server: CoachServer, shared: boolean): void {
  auth.on("revoked", (principal: Principal) => {
    sessions.closeToken(principal.jti, "token revoked");
    if (shared) server.serverSideEmit("session:close-token", principal.jti, "token revoked");
  });
  server.on("session:close-token", (jti, reason) => {
    auth.verified.revokeToken(jti);
    sessions.closeToken(jti, reason);
  });
  auth.on("sessions-cut", (userId: string, beforeMs: number, reason: DisconnectReason) => {
    sessions.closeUser(userId, beforeMs, reason);
    if (shared) server.serverSideEmit("session:close-user", userId, beforeMs, reason);
  });
  server.on("session:close-user", (userId, beforeMs, reason) => {
    auth.verified.cutUser(userId, beforeMs);
    sessions.closeUser(userId, beforeMs, reason);
  });
  auth.on("family-revoked", (familyId: string) => {
    sessions.closeFamily(familyId, "token revoked");
    if (shared) server.serverSideEmit("session:close-family", familyId, "token revoked");
  });
  server.on("session:close-family", (familyId, reason) => {
    auth.verified.revokeFamily(familyId);
    sessions.closeFamily(familyId, reason);
  });
}
