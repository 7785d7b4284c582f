import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RoomEvent } from "../protocol/events.ts";
import { openPgliteMemory, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

// After a reconnect the SDK must get back into its rooms even when the first rejoin is refused
// for a reason that passes (here: the per-user rate limit, one request per second).
describe("SDK resume after a refused rejoin", () => {
  let tdb: TestDatabase;
  let server: TestServer;
  let coach: TestUser;
  let student: TestUser;
  let roomId: string;

  before(async () => {
    tdb = await openPgliteMemory();
    server = await startTestServer(tdb.db, { COACHWIRE_SEND_BURST: "1", COACHWIRE_SEND_RATE_PER_S: "1" });
    coach = await createUser(tdb.db, "coach");
    student = await createUser(tdb.db);
    roomId = await createRoom(tdb.db, [coach, student]);
  });
  after(async () => {
    await server.close();
    await tdb.drop();
  });

  test("a rate-limited rejoin is retried until the room is resumed, and nothing is missed", async () => {
    const receiver = await server.client(student);
    const seen: RoomEvent[] = [];
    receiver.on("event", (e) => seen.push(e));
    const resumed: string[] = [];
    receiver.on("resumed", (id) => resumed.push(id));
    await receiver.join(roomId); // spends the one token
    receiver.socket.io.engine.close(); // reconnects at once: the rejoin meets an empty bucket
    await eventually(() => receiver.socket.connected, "reconnected");

    const sender = await server.client(coach);
    await new Promise((r) => setTimeout(r, 1100)); // let the sender's own bucket refill after its join
    await sender.join(roomId);
    await new Promise((r) => setTimeout(r, 1100));
    const { seq } = await sender.send(roomId, { text: "after the storm" });

    await eventually(() => resumed.includes(roomId), "the room was resumed");
    await eventually(() => receiver.cursor(roomId) === seq, "the receiver caught up");
    assert.deepEqual(seen.map((e) => e.seq), [seq]);
  });
});
