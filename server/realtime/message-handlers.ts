import { msgSendSchema } from "../../protocol/schemas.ts";
import type { RoomRegistry } from "../rooms/room-registry.ts";
import type { RequestRouter } from "./request-handler.ts";

export interface MessageHandlersContext {
  rooms: RoomRegistry;
}

/** msg:send: through the room's actor to the persister; acked with the seq after COMMIT. */
export function messageEvents(router: RequestRouter, ctx: MessageHandlersContext): void {
  router.on("msg:send", msgSendSchema, async ({ roomId, clientId, body }, { userId }) => {
    const outcome = await ctx.rooms.get(roomId).send(userId, { clientId, kind: "chat", body, checkSender: true });
    if (outcome.status === "failed") throw outcome.error;
    return { seq: outcome.event.seq, duplicate: outcome.status === "duplicate" };
  });
}
