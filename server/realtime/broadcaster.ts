import type { RoomEvent } from "../../protocol/events.ts";
import { broadcastEvent, type Broadcaster } from "../log/audience.ts";
import type { CommitSink } from "../log/persister.ts";
import type { Metrics } from "../metrics/metrics.ts";

/**
 * The commit sink of every writer, server or job worker: each stored event goes to everyone in
 * its room through the fan-out's publisher (server/fanout/fanout.ts) — a server's Socket.IO
 * server, or a job worker's Redis publisher. On a server with Socket.IO on uWS a one-room
 * broadcast becomes a native `app.publish` (and, with Redis, one publish to the other
 * processes); a private event goes in full to its audience and redacted to the rest. Delivery
 * here is best effort; the seq lets receivers see and fill gaps.
 */
export function roomBroadcaster(publisher: Broadcaster, metrics?: Metrics): CommitSink {
  return (events: RoomEvent[]) => {
    for (const event of events) {
      broadcastEvent(publisher, event);
      metrics?.eventsOut.inc({ kind: event.kind });
    }
    // createdAt is the storing transaction's start: this spans the commit and the hand-off to subscribers.
    if (metrics && events.length > 0) metrics.fanoutLatency.observe(Math.max(0, Date.now() - events[0]!.createdAt) / 1000);
  };
}
