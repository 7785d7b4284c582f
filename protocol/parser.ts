import { Emitter } from "@socket.io/component-emitter";
import { Packr } from "msgpackr";

/**
 * A Socket.IO parser on msgpackr, wire-compatible with socket.io-msgpack-parser: each packet
 * is one binary frame holding a plain msgpack map {type, nsp, data?, id?}. msgpackr records and
 * structures are off, so any msgpack peer can read it.
 */

const PacketType = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4 } as const;

interface Packet {
  type: number;
  nsp: string;
  data?: unknown;
  id?: number;
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: "number" });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === "[object Object]";
}

/** Event names Socket.IO uses itself; a client must not be able to emit them (as its own parser enforces). */
const RESERVED_EVENTS: ReadonlySet<unknown> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

function isDataValid(packet: Packet): boolean {
  switch (packet.type) {
    case PacketType.EVENT: {
      if (!Array.isArray(packet.data)) return false;
      const name: unknown = packet.data[0];
      return typeof name === "number" || (typeof name === "string" && !RESERVED_EVENTS.has(name));
    }
    case PacketType.CONNECT:
      return packet.data === undefined || isPlainObject(packet.data);
    case PacketType.DISCONNECT:
      return packet.data === undefined;
    case PacketType.CONNECT_ERROR:
      return typeof packet.data === "string" || isPlainObject(packet.data);
    default:
      return Array.isArray(packet.data);
  }
}

function checkPacket(decoded: unknown): Packet {
  if (!isPlainObject(decoded)) throw new Error("invalid packet");
  const packet = decoded as unknown as Packet;
  if (!Number.isInteger(packet.type) || packet.type < PacketType.CONNECT || packet.type > PacketType.CONNECT_ERROR) {
    throw new Error("invalid packet type");
  }
  if (typeof packet.nsp !== "string") throw new Error("invalid namespace");
  if (!isDataValid(packet)) throw new Error("invalid payload");
  if (packet.id !== undefined && !Number.isInteger(packet.id)) throw new Error("invalid packet id");
  return packet;
}

class Encoder {
  encode(packet: Packet): Uint8Array[] {
    // Leave out absent fields rather than encoding `undefined` (an msgpack extension).
    const plain: Packet = { type: packet.type, nsp: packet.nsp };
    if (packet.data !== undefined) plain.data = packet.data;
    if (packet.id !== undefined) plain.id = packet.id;
    return [packr.pack(plain)];
  }
}

class Decoder extends Emitter<Record<string, never>, Record<string, never>, { decoded: (packet: Packet) => void }> {
  add(chunk: unknown): void {
    // A text frame cannot be a msgpack packet; throwing makes Socket.IO close the connection.
    if (!(chunk instanceof Uint8Array) && !(chunk instanceof ArrayBuffer)) throw new Error("expected a binary frame");
    const bytes = chunk instanceof ArrayBuffer ? new Uint8Array(chunk) : chunk;
    this.emitReserved("decoded", checkPacket(packr.unpack(bytes)));
  }

  destroy(): void {}
}

/** The msgpack parser object to pass as Socket.IO's (server or client) `parser` option. */
export const msgpackParser = { protocol: 5, PacketType, Encoder, Decoder };

/** Which wire encoding a server or client speaks. */
export type WireFormat = "msgpack" | "json";
