import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RoomEvent } from "../protocol/events.ts";
import { useRoomFixture } from "./support/room-fixture.ts";
import { eventually } from "./support/server.ts";

// After a reconnect the SDK must get back into its rooms even when the first rejoin is refused
// for a reason that passes (here: the per-user rate limit, one request per second).
describe("SDK resume after a refused rejoin", () => {
  const room = useRoomFixture({ COACHWIRE_SEND_BURST: "1", COACHWIRE_SEND_RATE_PER_S: "1" });

  test("a rate-limited rejoin is retried until the room is resumed, and nothing is missed", async () => {
    const { server, coach, roomId } = room;
    const student = room.students[0]!;
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
