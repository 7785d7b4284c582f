import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RoomEvent } from "../protocol/events.ts";
import { openPgliteMemory, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

// The same chat path on both HTTP/WebSocket transports (uWS, and the node:http + ws fallback)
// and both wire encodings (msgpack, JSON).
for (const transport of ["uws", "node"] as const) {
  for (const parser of ["msgpack", "json"] as const) {
    describe(`${transport} transport, ${parser} parser`, () => {
      let tdb: TestDatabase;
      let server: TestServer;
      let users: TestUser[];
      let roomId: string;

      before(async () => {
        tdb = await openPgliteMemory();
        server = await startTestServer(tdb.db, { COACHWIRE_TRANSPORT: transport, COACHWIRE_PARSER: parser });
        users = [await createUser(tdb.db, "coach"), await createUser(tdb.db)];
        roomId = await createRoom(tdb.db, users);
      });
      after(async () => {
        await server.close();
        await tdb.drop();
      });

      test("serves REST and carries chat in order", async () => {
        assert.equal(server.transport, transport);
        const res = await fetch(`${server.url}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: users[1]!.email, password: users[1]!.password }),
        });
        assert.equal(res.status, 200);

        const [a, b] = await Promise.all(users.map((u) => server.client(u)));
        const seen: RoomEvent[] = [];
        b!.on("event", (e) => seen.push(e));
        await Promise.all([a!.join(roomId), b!.join(roomId)]);
        const acks = [];
        for (let n = 0; n < 20; n++) acks.push(await a!.send(roomId, { text: `héllo ${n} ✓` }));
        await eventually(() => seen.length === 20, "20 events delivered");
        assert.deepEqual(seen.map((e) => e.seq), acks.map((x) => x.seq));
        assert.equal(seen[19]!.body["text"], "héllo 19 ✓");
      });
    });
  }
}
