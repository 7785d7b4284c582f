import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeJwt } from "jose";
import { Packr } from "msgpackr";
import type { Socket } from "socket.io-client";
import { availableDrivers } from "./support/databases.ts";
import { storedEvents } from "./support/fixtures.ts";
import { connectRaw, eventually } from "./support/server.ts";
import { describeBadInputs, request, send, whenClosed, within, type BadInput } from "./support/bad-input-table.ts";

// Frames and packets written raw, under the request layer — bytes the msgpack parser cannot
// read, packets Socket.IO must not accept, a frame over the size limit — each closes that one
// connection and harms nothing else; a well-formed raw packet is ignored, and a hand-written
// "disconnect" event cannot detach a session from revocation. Requests and handshakes the
// server refuses with a coded error: bad-requests.test.ts.

// The same msgpack shape the server's parser reads: a plain map {type, nsp, data?, id?}.
const packr = new Packr({ useRecords: false, moreTypes: false });

/** Writes bytes or text straight on the engine.io connection, under Socket.IO's parser. */
const engineWrite = (socket: Socket, data: Uint8Array | string) => socket.io.engine.write(data as never);
const bytes = (data: Uint8Array | string) => (socket: Socket) => engineWrite(socket, data);
const packet = (p: unknown) => bytes(packr.pack(p));

/** An EVENT ["msg:send", [[[…1…]]]] nested `depth` arrays deep, built by hand (msgpackr's packer recurses too). */
function deeplyNested(depth: number): Buffer {
  const head = packr.pack({ type: 2, nsp: "/", data: ["msg:send", 0] });
  // The packet ends with the 0 (one byte, 0x00); put depth × fixarray(1) and a 1 in its place.
  return Buffer.concat([head.subarray(0, head.length - 1), Buffer.alloc(depth, 0x91), Buffer.from([0x01])]);
}

/** A valid EVENT for an event nobody listens to: harmless on its own. */
const IGNORABLE = { type: 2, nsp: "/", data: ["no-such-event"] };

const BAD_FRAMES: BadInput[] = [
  // Frames the parser or the transport must refuse by closing the connection.
  { kind: "close", name: "malformed msgpack (0xc1 is never valid)", write: bytes(Buffer.from([0xc1, 0xff, 0x00])) },
  { kind: "close", name: "a text frame to the msgpack server", write: bytes('2["msg:send"]') },
  { kind: "close", name: "msgpack packet of unknown type 9", write: packet({ type: 9, nsp: "/", data: ["msg:send"] }) },
  { kind: "close", name: "msgpack packet whose nsp is not a string", write: packet({ type: 2, nsp: 7, data: ["msg:send", {}] }) },
  { kind: "close", name: "msgpack EVENT whose data is not an array", write: packet({ type: 2, nsp: "/", data: "msg:send" }) },
  { kind: "close", name: "msgpack value that is not a map", write: packet([2, "/", ["msg:send"]]) },
  { kind: "close", name: "msgpack EVENT whose ack id is not an integer", write: packet({ type: 2, nsp: "/", data: ["room:history", {}], id: "1" }) },
  { kind: "close", name: "msgpack str32 header claiming 4 GiB", write: bytes(Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61])) },
  { kind: "close", name: "msgpack packet followed by trailing bytes", write: bytes(Buffer.concat([packr.pack(IGNORABLE), Buffer.of(1)])) },
  { kind: "close", name: "msgpack nested 60,000 arrays deep", write: bytes(deeplyNested(60_000)) },
  { kind: "close", name: "a second CONNECT on an open session", write: packet({ type: 0, nsp: "/", data: {} }) },
  { kind: "close", name: "an EVENT for a namespace never joined", write: packet({ type: 2, nsp: "/admin", data: ["msg:send", {}] }) },
  {
    kind: "close",
    name: "an engine.io packet of unknown type",
    write: (s) => (s.io.engine.transport as unknown as { ws: { send(data: string): void } }).ws.send("9garbage"),
  },
  {
    kind: "close",
    name: "an oversized frame (100 KB text, over COACHWIRE_MAX_PAYLOAD_BYTES)",
    write: (s, ctx) => s.emit("msg:send", send(ctx, { body: { text: "x".repeat(100_000) } }), () => {}),
  },

  // The control: the same raw path with a well-formed packet is ignored, not closed.
  { kind: "ignored", name: "a well-formed packet written raw (control for the raw frames above)", send: packet(IGNORABLE) },
];

for (const driver of await availableDrivers()) {
  describeBadInputs(`bad frames are refused without harm (${driver})`, driver, BAD_FRAMES, (arena) => {
    test('a client-sent event named "disconnect" does not detach the session from token revocation', async () => {
      const { tdb, server, member, roomId, bystander } = arena;
      const accessToken = await server.tokenFor(member);
      const socket = server.rawSocket({ token: accessToken });
      await connectRaw(socket);
      const id = socket.id!;
      const rowsBefore = await storedEvents(tdb.db, roomId);
      const closed = whenClosed(socket);
      // socket.io-client refuses to emit reserved names, so write the packet by hand.
      packet({ type: 2, nsp: "/", data: ["disconnect", "io client disconnect"] })(socket);
      // Refusing the packet (closing) is fine; accepting it must leave the session revocable.
      const answered = request(socket, "room:history", [{ roomId, limit: 1 }]).then(() => "answered" as const);
      const outcome = await within(Promise.race([answered, closed.then(() => "closed" as const)]), "answer or close");
      if (outcome === "answered") {
        const { sub, jti, exp } = decodeJwt(accessToken);
        await server.auth.logout({ userId: sub!, role: member.role, jti: jti!, familyId: undefined, expiresAt: exp! * 1000 });
        // logout → "revoked" → Sessions.closeToken disconnects synchronously.
        assert.ok(!server.io.of("/").sockets.has(id), "the revoked token's socket is still connected");
      } else {
        await eventually(() => !server.io.of("/").sockets.has(id), "the server dropped the socket");
      }

      const probeId = await bystander.probe();
      assert.deepEqual((await storedEvents(tdb.db, roomId)).map((r) => r.client_id), [...rowsBefore.map((r) => r.client_id), probeId]);
    });
  });
}
