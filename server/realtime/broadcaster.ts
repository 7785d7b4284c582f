import type { RoomEvent } from "../../protocol/events.ts";
import type { CommitSink } from "../log/persister.ts";
import type { CoachServer } from "./socket-types.ts";

/**
 * The persister's commit sink: each stored event goes to everyone in its room. With Socket.IO
 * on uWS a one-room broadcast becomes a native `app.publish`. Delivery here is best effort; the
 * seq lets receivers see and fill any gap.
 */
export function roomBroadcaster(io: CoachServer): CommitSink {
  return (events: RoomEvent[]) => {
    for (const event of events) io.to(event.roomId).emit("room:event", event);
  };
}
