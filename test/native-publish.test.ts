import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Redis } from "ioredis";
import { after, before, describe, test } from "node:test";
import { openPgliteMemory, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { freshPrefix, redisAvailable, deleteKeys, REDIS_URL } from "./support/redis-keyspace.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

// Socket.IO's uws.ts makes one-room broadcasts a native uWS publish by patching the prototype
// of socket.io-adapter's Adapter. That holds only if the Redis adapter extends the very same
// class: a second copy of socket.io-adapter in node_modules would silently turn every broadcast
// back into a per-socket loop. These tests pin both facts down.

const require = createRequire(import.meta.url);

test("socket.io and @socket.io/redis-adapter resolve one and the same socket.io-adapter", () => {
  const fromSocketIo = require.resolve("socket.io-adapter", { paths: [require.resolve("socket.io")] });
  const fromRedisAdapter = require.resolve("socket.io-adapter", { paths: [require.resolve("@socket.io/redis-adapter")] });
  assert.equal(fromRedisAdapter, fromSocketIo);
});

for (const withRedis of [false, true]) {
  describe(`room broadcasts on uWS ${withRedis ? "with the Redis adapter" : "with the in-process adapter"}`, async () => {
    const skip = withRedis && !(await redisAvailable()) && "Redis is not reachable";
    let tdb: TestDatabase;
    let server: TestServer;
    let users: TestUser[];
    let roomId: string;
    const prefix = freshPrefix();

    before(async () => {
      if (skip) return;
      tdb = await openPgliteMemory();
      server = await startTestServer(tdb.db, withRedis ? { REDIS_URL, COACHWIRE_REDIS_PREFIX: prefix } : {});
      users = [await createUser(tdb.db, "coach"), await createUser(tdb.db)];
      roomId = await createRoom(tdb.db, users);
    });
    after(async () => {
      if (skip) return;
      await server.close();
      await tdb.drop();
      if (withRedis) {
        const redis = new Redis(REDIS_URL);
        await deleteKeys(redis, prefix);
        await redis.quit();
      }
    });

    test("go out through uWS publish, not through each socket's own send", { skip }, async () => {
      assert.equal(server.transport, "uws");
      const [sender, receiver] = await Promise.all(users.map((u) => server.client(u)));
      await Promise.all([sender!.join(roomId), receiver!.join(roomId)]);
      const received: number[] = [];
      receiver!.on("event", (e) => received.push(e.seq));

      // Count frames written through the receiver's engine.io transport (acks, own emits).
      const serverSocket = server.io.of("/").sockets.get(receiver!.socket.id!)!;
      const transport = serverSocket.conn.transport as unknown as { send(packets: unknown[]): void };
      let perSocketFrames = 0;
      const send = transport.send.bind(transport);
      transport.send = (packets) => {
        perSocketFrames += packets.length;
        send(packets);
      };

      const { seq } = await sender!.send(roomId, { text: "via publish" });
      await eventually(() => received.includes(seq), "receiver got the event");
      assert.equal(perSocketFrames, 0, "the broadcast went through the receiver's own send()");
    });
  });
}
