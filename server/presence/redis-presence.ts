import type { Redis } from "ioredis";
import type { Presence, PresenceEntry } from "./presence.ts";

/*
 * Layout: one sorted set per room, `<prefix>{presence}:room:<roomId>`, members
 * `<userId>\t<connId>` scored by expiry (ms), and `<prefix>{presence}:rooms`, the rooms that
 * have entries. The `{presence}` hash tag keeps every key in one Redis Cluster slot, so the
 * sweep script may touch rooms it discovers. Each script is atomic: of several processes
 * sweeping at once, exactly one sees a given entry expire and announces that user's leave.
 */

const JOIN = `
local now = tonumber(ARGV[3])
local had = false
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  if string.sub(m, 1, #ARGV[2]) == ARGV[2] then had = true break end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('SADD', KEYS[2], ARGV[5])
if had then return 0 end
return 1
`;

const LEAVE = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], '+inf')) do
  if string.sub(m, 1, #ARGV[2]) == ARGV[2] then return 0 end
end
-- The user has left: their expired entries must not make a later sweep announce it again.
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])) do
  if string.sub(m, 1, #ARGV[2]) == ARGV[2] then redis.call('ZREM', KEYS[1], m) end
end
return 1
`;

const SWEEP = `
local gone = {}
for _, room in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. room
  local expired = redis.call('ZRANGEBYSCORE', key, '-inf', ARGV[2])
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2])
    local live = {}
    for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do live[string.match(m, '^[^\\t]*')] = true end
    local seen = {}
    for _, m in ipairs(expired) do
      local user = string.match(m, '^[^\\t]*')
      if not live[user] and not seen[user] then
        seen[user] = true
        table.insert(gone, room)
        table.insert(gone, user)
      end
    end
  end
  if redis.call('ZCARD', key) == 0 then redis.call('SREM', KEYS[1], room) end
end
return gone
`;

type Scripted = Redis & {
  coachwirePresenceJoin(...args: Array<string | number>): Promise<number>;
  coachwirePresenceLeave(...args: Array<string | number>): Promise<number>;
  coachwirePresenceSweep(...args: Array<string | number>): Promise<string[]>;
};

export class RedisPresence implements Presence {
  private readonly redis: Scripted;
  private readonly roomPrefix: string;
  private readonly roomsKey: string;

  constructor(
    redis: Redis,
    prefix: string,
    private readonly ttlMs: number,
  ) {
    if (!("coachwirePresenceJoin" in redis)) {
      redis.defineCommand("coachwirePresenceJoin", { numberOfKeys: 2, lua: JOIN });
      redis.defineCommand("coachwirePresenceLeave", { numberOfKeys: 1, lua: LEAVE });
      redis.defineCommand("coachwirePresenceSweep", { numberOfKeys: 1, lua: SWEEP });
    }
    this.redis = redis as Scripted;
    this.roomPrefix = `${prefix}{presence}:room:`;
    this.roomsKey = `${prefix}{presence}:rooms`;
  }

  async join({ roomId, userId, connId }: PresenceEntry): Promise<boolean> {
    const result = await this.redis.coachwirePresenceJoin(
      this.roomPrefix + roomId,
      this.roomsKey,
      `${userId}\t${connId}`,
      `${userId}\t`,
      Date.now(),
      this.ttlMs,
      roomId,
    );
    return result === 1;
  }

  async leave({ roomId, userId, connId }: PresenceEntry): Promise<boolean> {
    const result = await this.redis.coachwirePresenceLeave(this.roomPrefix + roomId, `${userId}\t${connId}`, `${userId}\t`, Date.now());
    return result === 1;
  }

  async linger({ roomId, userId, connId }: PresenceEntry, ms: number): Promise<void> {
    // XX: only an entry that is there (a swept or left one stays gone).
    await this.redis.zadd(this.roomPrefix + roomId, "XX", Date.now() + ms, `${userId}\t${connId}`);
  }

  async heartbeat(entries: readonly PresenceEntry[]): Promise<void> {
    if (entries.length === 0) return;
    // One ZADD per room (all its members) and one SADD for the rooms: a few hundred commands
    // for thousands of connections, not two per connection.
    const expiry = Date.now() + this.ttlMs;
    const byRoom = new Map<string, Array<string | number>>();
    for (const { roomId, userId, connId } of entries) {
      let args = byRoom.get(roomId);
      if (!args) byRoom.set(roomId, (args = []));
      args.push(expiry, `${userId}\t${connId}`);
    }
    const pipeline = this.redis.pipeline();
    for (const [roomId, args] of byRoom) pipeline.zadd(this.roomPrefix + roomId, ...args);
    pipeline.sadd(this.roomsKey, ...byRoom.keys());
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async online(roomId: string): Promise<string[]> {
    const members = await this.redis.zrangebyscore(this.roomPrefix + roomId, `(${Date.now()}`, "+inf");
    return [...new Set(members.map((m) => m.slice(0, m.indexOf("\t"))))];
  }

  async sweep(): Promise<Array<{ roomId: string; userId: string }>> {
    const flat = await this.redis.coachwirePresenceSweep(this.roomsKey, this.roomPrefix, Date.now());
    const gone: Array<{ roomId: string; userId: string }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) gone.push({ roomId: flat[i]!, userId: flat[i + 1]! });
    return gone;
  }

  async close(): Promise<void> {}
}
