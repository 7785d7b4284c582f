import type { RoomEvent } from "../../protocol/events.ts";
import { broadcastEvent } from "../log/audience.ts";
import type { CommitSink } from "../log/persister.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { CoachServer } from "./socket-types.ts";

/**
 * The persister's commit sink: each stored event goes to everyone in its room. With Socket.IO
 * on uWS a one-room broadcast becomes a native `app.publish` (and, with Redis, one publish to
 * the other processes); a notice goes in full to its audience and redacted to the rest. Delivery
 * here is best effort; the seq lets receivers see and fill gaps.
 */
export function roomBroadcaster(io: CoachServer, metrics?: Metrics): CommitSink {
  return (events: RoomEvent[]) => {
    for (const event of events) {
      broadcastEvent(io, event);
      metrics?.eventsOut.inc({ kind: event.kind });
    }
    // createdAt is the storing transaction's start: this spans the commit and the hand-off to subscribers.
    if (metrics && events.length > 0) metrics.fanoutLatency.observe(Math.max(0, Date.now() - events[0]!.createdAt) / 1000);
  };
}
