import { Emitter } from "@socket.io/redis-emitter";
import type { Redis } from "ioredis";
import type { RoomEvent } from "../protocol/events.ts";
import { adapterParser } from "../server/cluster-state.ts";
import { broadcastEvent, type Broadcaster } from "../server/log/audience.ts";
import type { CommitSink } from "../server/log/persister.ts";

/**
 * The worker's commit sink: stored events go to the room's sockets on every server process
 * through @socket.io/redis-emitter, which speaks the classic Redis adapter's protocol (same
 * channel key `<prefix>socket.io`, same msgpack parser). Best effort, like every broadcast: a
 * client that misses one sees the seq gap and fills it from the log.
 */
export function roomEmitter(redis: Redis, prefix: string): CommitSink {
  const emitter = new Emitter(redis, { key: `${prefix}socket.io`, parser: adapterParser });
  return (events: RoomEvent[]) => {
    for (const event of events) broadcastEvent(emitter as unknown as Broadcaster, event);
  };
}
