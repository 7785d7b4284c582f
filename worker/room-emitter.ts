import type { Redis } from "ioredis";
import type { Config } from "../server/config.ts";
import { createFanout } from "../server/fanout/fanout.ts";
import type { CommitSink } from "../server/log/persister.ts";
import { roomBroadcaster } from "../server/realtime/broadcaster.ts";

/**
 * The job worker's commit sink: stored events go to the room's sockets on every server process
 * through the fan-out the servers run (server/fanout/fanout.ts), built from the same config —
 * the classic adapter's emitter or the sharded adapter's channels — and the same commit sink as
 * a server's. Best effort, like every broadcast: a client that misses one sees the seq gap and
 * fills it from the log.
 */
export function roomEmitter(redis: Redis, config: Config["redis"], onError: (err: unknown) => void = () => {}): CommitSink {
  // Throws for the in-process fan-out: without REDIS_URL the server runs the jobs itself.
  return roomBroadcaster(createFanout(config, { pub: redis }, onError).publisher());
}
