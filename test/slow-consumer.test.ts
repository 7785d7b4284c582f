import assert from "node:assert/strict";
import type { Socket as NetSocket } from "node:net";
import { describe, test } from "node:test";
import type { RoomEvent } from "../protocol/events.ts";
import { useRoomFixture } from "./support/room-fixture.ts";
import { eventually } from "./support/server.ts";

// A client that stops reading must not silently lose events: under uWS a broadcast skips a
// socket past maxBackpressure without closing it (so coachwire turns on closeOnBackpressureLimit);
// node's ws buffers without end (so a sweep closes the socket with a reconnect-class reason).
// Either way the socket is closed and the SDK resumes by seq.
for (const transport of ["uws", "node"] as const) describe(`slow consumer (${transport} transport)`, () => {
  const room = useRoomFixture({
    COACHWIRE_TRANSPORT: transport,
    COACHWIRE_SLOW_CONSUMER_BYTES: "16384",
    COACHWIRE_SEND_RATE_PER_S: "100000",
    COACHWIRE_SEND_BURST: "100000",
  });

  test("is closed as a slow consumer, reconnects, and delivers every event once in order", async () => {
    const { server, coach, roomId } = room;
    const student = room.students[0]!;
    const sender = await server.client(coach);
    const receiver = await server.client(student);
    const seen: RoomEvent[] = [];
    const disconnects: string[] = [];
    receiver.on("event", (e) => seen.push(e));
    receiver.on("disconnected", (reason) => disconnects.push(reason));
    await sender.join(roomId);
    const { lastSeq } = await receiver.join(roomId);

    // Stop reading on the receiver's TCP socket: the kernel buffers fill, then the server's.
    const transport = receiver.socket.io.engine.transport as unknown as { ws: { _socket: NetSocket } };
    const tcp = transport.ws._socket;
    tcp.pause();
    const text = "x".repeat(3500);
    let sent = 0;
    while (disconnects.length === 0 && sent < 6000) {
      await Promise.all(Array.from({ length: 50 }, () => sender.send(roomId, { text })));
      sent += 50;
      if (server.io.of("/").sockets.size < 2) break; // the server has let go of the receiver
    }
    assert.ok(server.io.of("/").sockets.size < 2 || disconnects.length > 0, `receiver was never closed after ${sent} events`);
    tcp.resume();

    const head = lastSeq + sent;
    await eventually(() => receiver.cursor(roomId) === head, `receiver reached seq ${head}`, 30_000);
    assert.ok(disconnects.length > 0, "the receiver was disconnected");
    assert.deepEqual(
      seen.filter((e) => e.seq > lastSeq).map((e) => e.seq),
      Array.from({ length: sent }, (_, i) => lastSeq + 1 + i),
    );
    assert.equal(seen.length, new Set(seen.map((e) => e.seq)).size, "no event delivered twice");
  });
});
