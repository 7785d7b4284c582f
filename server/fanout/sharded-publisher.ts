import type { Redis } from "ioredis";
import type { RoomEvent } from "../../protocol/events.ts";
import type { Broadcaster } from "../log/audience.ts";

/**
 * Publishes broadcasts for servers that run `createShardedAdapter` (@socket.io/redis-adapter 8.3),
 * from a process with no Socket.IO server of its own (a job worker). @socket.io/redis-emitter
 * 5.1 speaks only the classic adapter's protocol (PUBLISH on `<key>#/#…`, which a sharded
 * adapter never hears: SSUBSCRIBE and PUBLISH do not meet); it has no sharded mode (upstream
 * socket.io-redis-emitter#127, still open). So this writes what the sharded adapter itself writes
 * (lib/sharded-adapter.ts, socket.io-adapter's ClusterAdapter):
 * - the message `{uid, nsp, type: BROADCAST, data: {packet, opts: {rooms, except, flags}}}`, as
 *   JSON (the adapter sends JSON unless the payload holds binary, and decodes by the first byte);
 * - SPUBLISH on the namespace channel `<prefix>#/#`, or — in the "dynamic" subscription mode the
 *   servers run — on the room's own channel `<prefix>#/#<room>#` when the broadcast targets one
 *   room that does not look like a socket id (20 characters), which is where a server listens
 *   for a room it has sockets in.
 * The uid "emitter" is the one the adapters reserve for publishers that are not servers.
 * test/fanout-conformance.test.ts proves it against the real adapter.
 */
export class ShardedPublisher implements Broadcaster {
  constructor(
    private readonly redis: Redis,
    /** The servers' `channelPrefix`. */
    private readonly channelPrefix: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  to(room: string | string[]): ShardedBroadcast {
    return new ShardedBroadcast(this, new Set(), new Set()).to(room);
  }

  /** Sends one broadcast (called by the chain built with `to`/`except`). */
  publish(rooms: ReadonlySet<string>, except: ReadonlySet<string>, event: string, payload: RoomEvent): void {
    const message = {
      uid: EMITTER_UID,
      nsp: NAMESPACE,
      type: BROADCAST,
      data: { packet: { type: PACKET_EVENT, data: [event, payload], nsp: NAMESPACE }, opts: { rooms: [...rooms], except: [...except], flags: {} } },
    };
    this.redis.spublish(this.channelFor(rooms), JSON.stringify(message)).catch(this.onError);
  }

  private channelFor(rooms: ReadonlySet<string>): string {
    const channel = `${this.channelPrefix}#${NAMESPACE}#`;
    const [only] = rooms;
    return rooms.size === 1 && only!.length !== SOCKET_ID_LENGTH ? `${channel}${only}#` : channel;
  }
}

class ShardedBroadcast {
  constructor(
    private readonly publisher: ShardedPublisher,
    private readonly rooms: ReadonlySet<string>,
    private readonly exceptRooms: ReadonlySet<string>,
  ) {}

  to(room: string | string[]): ShardedBroadcast {
    return new ShardedBroadcast(this.publisher, new Set([...this.rooms, ...[room].flat()]), this.exceptRooms);
  }

  except(room: string | string[]): ShardedBroadcast {
    return new ShardedBroadcast(this.publisher, this.rooms, new Set([...this.exceptRooms, ...[room].flat()]));
  }

  emit(event: "room:event", payload: RoomEvent): true {
    this.publisher.publish(this.rooms, this.exceptRooms, event, payload);
    return true;
  }
}

/** socket.io-adapter's `MessageType.BROADCAST`. */
const BROADCAST = 3;
/** socket.io-parser's `PacketType.EVENT`. */
const PACKET_EVENT = 2;
/** The uid ClusterAdapter reserves for publishers outside the cluster (it never answers them). */
const EMITTER_UID = "emitter";
const NAMESPACE = "/";
/** The sharded adapter sends a one-room broadcast to the namespace channel when the room is this long (a socket id). */
const SOCKET_ID_LENGTH = 20;
