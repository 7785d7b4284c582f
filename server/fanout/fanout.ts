import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import type { Redis } from "ioredis";
import { Packr } from "msgpackr";
import type { Config } from "../config.ts";
import type { Broadcaster } from "../log/audience.ts";
import type { CoachServer } from "../realtime/socket-types.ts";
import { ShardedPublisher } from "./sharded-publisher.ts";

/**
 * The one fan-out seam: how a stored event reaches the sockets of its room on every server
 * process. Three modes, chosen from the same config by servers and job workers alike:
 * - `in-process` (no REDIS_URL): one server process, Socket.IO's default adapter; jobs run in
 *   that process (the embedded runner) and publish through its own Socket.IO server;
 * - `redis-classic` (COACHWIRE_REDIS_ADAPTER=classic): @socket.io/redis-adapter's classic
 *   adapter (PUBLISH/PSUBSCRIBE, msgpack payloads); job workers publish with @socket.io/redis-emitter;
 * - `redis-sharded` (COACHWIRE_REDIS_ADAPTER=sharded, for Redis Cluster): the sharded adapter
 *   (Redis 7 SPUBLISH/SSUBSCRIBE, one channel per room); job workers publish with ShardedPublisher,
 *   since the emitter cannot speak this protocol.
 * A server `attach`es the fan-out to its Socket.IO server; everything then broadcasts through a
 * `publisher()` — the Socket.IO server itself in a server process, the Redis publisher in a job
 * worker — with the same `broadcastEvent` (server/log/audience.ts). test/fanout-conformance.test.ts
 * runs all three against real Redis.
 */
export type FanoutMode = "in-process" | "redis-classic" | "redis-sharded";

/** The fan-out a configuration asks for. */
export function fanoutMode(redis: Config["redis"]): FanoutMode {
  if (!redis.url) return "in-process";
  return redis.adapter === "sharded" ? "redis-sharded" : "redis-classic";
}

/** The Redis connections a fan-out uses: `pub` publishes; `sub` (servers only) is put in subscriber mode. */
export interface FanoutConnections {
  pub: Redis;
  sub?: Redis;
}

/** A built fan-out (see {@link FanoutMode}). */
export interface Fanout {
  readonly mode: FanoutMode;
  /** Server processes: installs the adapter that carries this server's broadcasts to its siblings (and theirs to it). */
  attach(io: CoachServer): void;
  /** What to broadcast through: the attached Socket.IO server, or (job workers) a publisher reaching every server's sockets. */
  publisher(): Broadcaster;
}

/** Inter-process payloads of the classic adapter and emitter as plain msgpack maps (no msgpackr records), as on the client wire. */
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });
export const adapterParser = { encode: (msg: unknown) => packr.pack(msg), decode: (buf: Buffer) => packr.unpack(buf) };

/**
 * The sharded adapter's subscription mode, pinned because ShardedPublisher mirrors it: a
 * one-room broadcast goes to that room's own channel, which only processes with a socket in the
 * room subscribe to (the others never hear it).
 */
export const SHARDED_SUBSCRIPTION_MODE = "dynamic";

/** Builds the fan-out `redis` (the config's redis section) asks for; the Redis modes need `connections`. */
export function createFanout(redis: Config["redis"], connections: FanoutConnections | undefined, onError: (err: unknown) => void = () => {}): Fanout {
  const mode = fanoutMode(redis);
  // The classic adapter's `key` and the sharded one's `channelPrefix`: every channel starts with it.
  const channelPrefix = `${redis.prefix}socket.io`;
  let server: CoachServer | undefined;
  let publisher: Broadcaster | undefined;
  const pub = () => {
    if (!connections) throw new Error(`the ${mode} fan-out needs Redis connections`);
    return connections.pub;
  };
  return {
    mode,
    attach(io) {
      server = io;
      if (mode === "in-process") return;
      const sub = connections?.sub;
      if (!sub) throw new Error(`a server's ${mode} fan-out needs a subscriber connection`);
      io.adapter(
        mode === "redis-sharded"
          ? createShardedAdapter(pub(), sub, { channelPrefix, subscriptionMode: SHARDED_SUBSCRIPTION_MODE })
          : createAdapter(reportingPublishes(pub(), onError), sub, { key: channelPrefix, parser: adapterParser }),
      );
    },
    publisher() {
      if (server) return server;
      if (mode === "in-process") throw new Error("the in-process fan-out publishes through its server's Socket.IO: attach() first");
      publisher ??=
        mode === "redis-sharded"
          ? new ShardedPublisher(pub(), channelPrefix, onError)
          : (new Emitter(reportingPublishes(pub(), onError), { key: channelPrefix, parser: adapterParser }) as unknown as Broadcaster);
      return publisher;
    },
  };
}

/**
 * The classic adapter and the emitter call `publish` and drop its promise: a publish Redis refuses
 * (it stayed away past the connection's retries) would be an unhandled rejection, which ends a
 * Node 20 process — a server or job worker lost to a Redis restart. They are handed this view of
 * the connection instead, whose `publish` reports the failure and resolves. (The sharded adapter
 * catches its own; ShardedPublisher reports like this.)
 */
function reportingPublishes(redis: Redis, onError: (err: unknown) => void): Redis {
  return new Proxy(redis, {
    get(target, property) {
      if (property === "publish") return (channel: string, message: string | Buffer) => target.publish(channel, message).catch(onError);
      const value: unknown = Reflect.get(target, property, target);
      // Methods run on the connection itself; the constructor stays as is (the adapters tell a Cluster by its name).
      return typeof value === "function" && property !== "constructor" ? value.bind(target) : value;
    },
  });
}
