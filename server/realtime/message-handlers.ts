import { msgSendSchema } from "../../protocol/schemas.ts";
import type { RoomRegistry } from "../rooms/room-registry.ts";
import { onRequest, type RequestGuards } from "./request-handler.ts";
import type { CoachSocket } from "./socket-types.ts";

export interface MessageHandlersContext {
  rooms: RoomRegistry;
  guards: RequestGuards;
}

/** msg:send: through the room's actor to the persister; acked with the seq after COMMIT. */
export function registerMessageHandlers(socket: CoachSocket, ctx: MessageHandlersContext): void {
  onRequest(socket, "msg:send", msgSendSchema, ctx.guards, async ({ roomId, clientId, body }, { userId }) => {
    const outcome = await ctx.rooms.get(roomId).send(userId, { clientId, kind: "chat", body, checkSender: true });
    if (outcome.status === "failed") throw outcome.error;
    return { seq: outcome.event.seq, duplicate: outcome.status === "duplicate" };
  });
}
