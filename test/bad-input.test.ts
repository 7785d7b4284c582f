import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { decodeJwt, SignJWT } from "jose";
import { Packr } from "msgpackr";
import type { Socket } from "socket.io-client";
import { ERROR_CATALOG, type ErrorCode } from "../protocol/errors.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { MAX_TEXT_LENGTH } from "../protocol/schemas.ts";
import { DEFAULT_JWT_SECRET } from "../server/config.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, storedEvents, type TestUser } from "./support/fixtures.ts";
import { connectRaw, eventually, startTestServer, type TestServer } from "./support/server.ts";

// Adversarial table (Centrifugo style): every bad input has one expected outcome — a coded
// error ack, a refused handshake, a server-side close, or silence — and after each one
// nothing is in room_events that was not there before, and a bystander in the room still
// sends and receives.

/** What the attacker does, and what the server must answer. */
type BadInput =
  /** A request event with raw arguments (an ack callback is appended) → `{ok:false,error:{code}}`. */
  | { kind: "request"; name: string; as?: "outsider"; event: string; args: RequestArgs; code: ErrorCode; says?: RegExp }
  /** Something written on an open connection → the server closes that connection. */
  | { kind: "close"; name: string; write: (socket: Socket, ctx: Ctx) => void }
  /** The handshake auth payload → connect_error with `err.data.code`. */
  | { kind: "handshake"; name: string; auth: (ctx: Ctx) => Promise<Record<string, unknown>>; code: ErrorCode }
  /** Something the server must ignore: no answer, nothing written, the connection stays usable. */
  | { kind: "ignored"; name: string; send: (socket: Socket, ctx: Ctx, answered: () => void) => void };

type RequestArgs = (ctx: Ctx) => unknown[] | Promise<unknown[]>;

interface Ctx {
  roomId: string;
  member: TestUser;
  server: TestServer;
}

// The same msgpack shape the server's parser reads: a plain map {type, nsp, data?, id?}.
const packr = new Packr({ useRecords: false, moreTypes: false });
const nowS = () => Math.floor(Date.now() / 1000);

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

/** A well-formed send, to be broken one field at a time. */
const send = (ctx: Ctx, overrides: Record<string, unknown> = {}) => ({
  roomId: ctx.roomId,
  clientId: `c-${randomUUID()}`,
  body: { text: "hello" },
  ...overrides,
});
const sendWith = (overrides: Record<string, unknown>) => (ctx: Ctx) => [send(ctx, overrides)];
const inRoom = (ctx: Ctx) => [{ roomId: ctx.roomId }];

/** Handshake auth with an HS256 token for the member, signed with the server's secret unless told otherwise. */
const signed =
  (o: { role?: string; iss?: string; exp?: number; secret?: string }) =>
  async (ctx: Ctx): Promise<Record<string, unknown>> => ({
    token: await new SignJWT({ role: o.role ?? "student" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(o.iss ?? "coachwire")
      .setSubject(ctx.member.id)
      .setJti(randomUUID())
      .setIssuedAt(Math.min(nowS(), (o.exp ?? Infinity) - 60))
      .setExpirationTime(o.exp ?? nowS() + 600)
      .sign(new TextEncoder().encode(o.secret ?? DEFAULT_JWT_SECRET)),
  });

function unsignedToken(ctx: Ctx): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const claims = { sub: ctx.member.id, role: "coach", iss: "coachwire", jti: randomUUID(), exp: nowS() + 600 };
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

/** A valid EVENT for an event nobody listens to: harmless on its own. */
const IGNORABLE = { type: 2, nsp: "/", data: ["no-such-event"] };
const VF = "VALIDATION_FAILED";
const badSend = (name: string, args: RequestArgs, says: RegExp): BadInput =>
  ({ kind: "request", name: `msg:send ${name}`, event: "msg:send", args, code: VF, says });
const NOWHERE = "no-such-room";

const BAD_INPUTS: BadInput[] = [
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

  // Payloads of the wrong shape: refused before any handler runs.
  badSend("without roomId", () => [{ clientId: "c-1", body: { text: "hi" } }], /^roomId:/),
  badSend("with an extra key", sendWith({ admin: true }), /"admin"/),
  badSend("with an extra key in body", sendWith({ body: { text: "hi", html: "<b>" } }), /^body:.*"html"/),
  badSend("with empty body.text", sendWith({ body: { text: "" } }), /^body\.text:/),
  badSend("with body.text of MAX_TEXT_LENGTH+1", sendWith({ body: { text: "y".repeat(MAX_TEXT_LENGTH + 1) } }), /^body\.text:/),
  badSend("with U+0000 in body.text (jsonb cannot hold it)", sendWith({ body: { text: "a\u0000b" } }), /^body\.text:/),
  badSend("with a clientId of bad characters", sendWith({ clientId: "../x y" }), /^clientId:/),
  badSend("with no payload argument", () => [], /one payload argument/),
  badSend("with a number as payload", () => [42], /^payload:/),
  badSend("with two payload arguments", (c) => [send(c), send(c)], /one payload argument/),
  badSend("with an own __proto__ key", (c) => [Object.assign(JSON.parse('{"__proto__":{"polluted":true}}'), send(c))], /__proto_/),
  {
    kind: "request",
    name: "room:history with both before and after",
    event: "room:history",
    args: (c) => [{ roomId: c.roomId, before: 5, after: 1 }],
    code: VF,
    says: /before or after/,
  },
  {
    kind: "request",
    name: "room:join with since one past the room's last seq",
    event: "room:join",
    args: async (c) => {
      const res = await c.server.db.query<{ last_seq: number }>("SELECT last_seq FROM rooms WHERE id = $1", [c.roomId]);
      return [{ roomId: c.roomId, since: Number(res.rows[0]!.last_seq) + 1 }];
    },
    code: VF,
    says: /^since \d+ is beyond/,
  },

  // Rooms that do not exist, and rooms the user is not in.
  { kind: "request", name: "room:join of an unknown room", event: "room:join", args: () => [{ roomId: NOWHERE }], code: "ROOM_NOT_FOUND" },
  { kind: "request", name: "room:history of an unknown room", event: "room:history", args: () => [{ roomId: NOWHERE }], code: "ROOM_NOT_FOUND" },
  { kind: "request", name: "msg:send to an unknown room", event: "msg:send", args: sendWith({ roomId: NOWHERE }), code: "ROOM_NOT_FOUND" },
  { kind: "request", name: "room:join by a non-member", as: "outsider", event: "room:join", args: inRoom, code: "NOT_A_MEMBER" },
  { kind: "request", name: "room:history by a non-member", as: "outsider", event: "room:history", args: inRoom, code: "NOT_A_MEMBER" },
  { kind: "request", name: "msg:send by a non-member", as: "outsider", event: "msg:send", args: sendWith({}), code: "NOT_A_MEMBER" },

  // Handshakes refused with a coded connect_error.
  { kind: "handshake", name: "no token", auth: async () => ({}), code: "UNAUTHENTICATED" },
  { kind: "handshake", name: "a token that is not a string", auth: async () => ({ token: 12345 }), code: "UNAUTHENTICATED" },
  { kind: "handshake", name: "a garbage token", auth: async () => ({ token: "not.a.jwt" }), code: "TOKEN_INVALID" },
  { kind: "handshake", name: "a token signed with a different secret", auth: signed({ secret: "x".repeat(40) }), code: "TOKEN_INVALID" },
  { kind: "handshake", name: "an expired token", auth: signed({ exp: nowS() - 60 }), code: "TOKEN_EXPIRED" },
  { kind: "handshake", name: "a token with a bogus role claim", auth: signed({ role: "superuser" }), code: "TOKEN_INVALID" },
  { kind: "handshake", name: "a token from another issuer", auth: signed({ iss: "someone-else" }), code: "TOKEN_INVALID" },
  { kind: "handshake", name: 'an unsigned token (alg "none")', auth: async (c) => ({ token: unsignedToken(c) }), code: "TOKEN_INVALID" },

  // Things to ignore: no answer, nothing written, the connection stays usable.
  { kind: "ignored", name: "a well-formed packet written raw (control for the raw frames above)", send: packet(IGNORABLE) },
  { kind: "ignored", name: "a valid msg:send emitted without an ack callback", send: (s, c) => s.emit("msg:send", send(c)) },
  { kind: "ignored", name: "an event name the server does not know", send: (s, c, ack) => s.emit("room:delete", { roomId: c.roomId }, ack) },
];

type Ack = { ok: true; seq?: number } | { ok: false; error: { code: string; message: string; retryable: boolean } };

/** Bounds a wait so a missing answer fails the test instead of hanging it. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what}`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Emits a request with raw arguments and resolves with its ack. */
const request = (socket: Socket, event: string, args: unknown[]) =>
  new Promise<Ack>((resolve) => socket.emit(event, ...args, (res: Ack) => resolve(res)));

const whenClosed = (socket: Socket) => new Promise<string>((resolve) => socket.once("disconnect", (reason) => resolve(reason)));

function assertCodedError(res: Ack, code: ErrorCode): void {
  assert.equal(res.ok, false, `expected ${code}, got ${JSON.stringify(res)}`);
  if (res.ok) return;
  assert.equal(res.error.code, code, res.error.message);
  assert.equal(typeof res.error.message, "string");
  assert.equal(res.error.retryable, ERROR_CATALOG[code].retryable);
}

async function eventCount(tdb: TestDatabase): Promise<number> {
  const res = await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM room_events");
  return Number(res.rows[0]!.n);
}

/** A raw socket already connected and joined to the room, which proves after each case that the room still works. */
async function joinBystander(server: TestServer, user: TestUser, roomId: string) {
  const socket = server.rawSocket({ token: await server.tokenFor(user) });
  await connectRaw(socket);
  const id = socket.id;
  const seen: RoomEvent[] = [];
  socket.on("room:event", (e: RoomEvent) => seen.push(e));
  const joined = await request(socket, "room:join", [{ roomId }]);
  assert.equal(joined.ok, true, JSON.stringify(joined));
  return {
    /** Sends one event and sees it come back; resolves with its clientId. */
    async probe(): Promise<string> {
      assert.ok(socket.connected && socket.id === id, "the bystander kept its original connection");
      const clientId = `probe-${randomUUID()}`;
      const res = await within(request(socket, "msg:send", [{ roomId, clientId, body: { text: "still here" } }]), "ack for the bystander's send");
      assert.equal(res.ok, true, JSON.stringify(res));
      await eventually(() => seen.some((e) => e.clientId === clientId && e.seq === (res as { seq: number }).seq), "the bystander receives its event");
      return clientId;
    },
  };
}

for (const driver of await availableDrivers()) {
  describe(`bad input is refused without harm (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    let member: TestUser;
    let outsider: TestUser;
    let roomId: string;
    let bystander: Awaited<ReturnType<typeof joinBystander>>;
    let ctx: Ctx;

    before(async () => {
      tdb = await openTestDatabase(driver);
      // Generous limits: these cases must meet validation, not the rate limiter.
      server = await startTestServer(tdb.db, { COACHWIRE_PARSER: "msgpack", COACHWIRE_SEND_RATE_PER_S: "1000", COACHWIRE_SEND_BURST: "1000" });
      const coach = await createUser(tdb.db, "coach");
      member = await createUser(tdb.db);
      outsider = await createUser(tdb.db);
      roomId = await createRoom(tdb.db, [coach, member]);
      await createRoom(tdb.db, [outsider]);
      bystander = await joinBystander(server, coach, roomId);
      await bystander.probe(); // the room has a non-zero last seq before the cases start
      ctx = { roomId, member, server };
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    async function connectAs(user: TestUser): Promise<Socket> {
      const socket = server.rawSocket({ token: await server.tokenFor(user) });
      await connectRaw(socket);
      return socket;
    }

    /** A member's request the server answers only after everything sent before it on that socket was handled. */
    async function barrier(socket: Socket): Promise<void> {
      const res = await within(request(socket, "room:history", [{ roomId, limit: 1 }]), "ack for the barrier request");
      assert.equal(res.ok, true, `connection still usable: ${JSON.stringify(res)}`);
    }

    async function attack(input: BadInput): Promise<void> {
      switch (input.kind) {
        case "request": {
          const socket = await connectAs(input.as === "outsider" ? outsider : member);
          const closed = whenClosed(socket).then((reason) => ({ closed: reason }));
          const answer = request(socket, input.event, await input.args(ctx)).then((ack) => ({ ack }));
          const outcome = await within(Promise.race([answer, closed]), `answer to ${input.event}`);
          assert.ok("ack" in outcome, `expected a ${input.code} ack, but the connection closed (${JSON.stringify(outcome)})`);
          assertCodedError(outcome.ack, input.code);
          // Pin the reason too, so a case cannot pass by tripping over some other check.
          if (input.says && !outcome.ack.ok) assert.match(outcome.ack.error.message, input.says);
          assert.ok(socket.connected, "a refused request leaves the connection open");
          const serverSide = server.io.of("/").sockets.get(socket.id!);
          assert.deepEqual([...(serverSide?.rooms ?? [])], [socket.id], "a refused request never subscribes");
          socket.disconnect();
          return;
        }
        case "close": {
          const socket = await connectAs(member);
          const id = socket.id!;
          const closed = whenClosed(socket);
          input.write(socket, ctx);
          const reason = await within(closed, "close by the server");
          assert.notEqual(reason, "io client disconnect");
          await eventually(() => !server.io.of("/").sockets.has(id), "the server dropped the socket");
          return;
        }
        case "handshake": {
          const socket = server.rawSocket(await input.auth(ctx));
          const err = await within(
            connectRaw(socket).then(
              () => assert.fail("the handshake was accepted"),
              (e: Error & { data?: { code?: string; retryable?: boolean } }) => e,
            ),
            "connect_error",
          );
          assert.equal(err.data?.code, input.code, `connect_error data: ${JSON.stringify(err.data)}`);
          assert.equal(err.data?.retryable, ERROR_CATALOG[input.code].retryable);
          assert.ok(!socket.connected);
          return;
        }
        case "ignored": {
          const socket = await connectAs(member);
          let answers = 0;
          input.send(socket, ctx, () => answers++);
          await barrier(socket);
          assert.equal(answers, 0, "the server answered an event it should ignore");
          assert.ok(socket.connected);
          socket.disconnect();
          return;
        }
      }
    }

    for (const input of BAD_INPUTS) {
      const expected = input.kind === "request" || input.kind === "handshake" ? input.code : input.kind;
      test(`${input.name} → ${expected}`, async () => {
        const rowsBefore = await storedEvents(tdb.db, roomId);
        const totalBefore = await eventCount(tdb);

        await attack(input);

        // The probe goes through the same actor and persister: anything the attack queued
        // is committed by the time the probe is acknowledged.
        const probeId = await bystander.probe();
        const rowsAfter = await storedEvents(tdb.db, roomId);
        assert.deepEqual(
          rowsAfter.map((r) => r.client_id),
          [...rowsBefore.map((r) => r.client_id), probeId],
          "room_events holds exactly the bystander's probe beyond what was there",
        );
        assert.equal(await eventCount(tdb), totalBefore + 1, "no row was written in any room");
        assert.equal(({} as Record<string, unknown>)["polluted"], undefined, "Object.prototype is untouched");
      });
    }

    test('a client-sent event named "disconnect" does not detach the session from token revocation', async () => {
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
        await server.auth.logout({ userId: sub!, role: member.role, jti: jti!, expiresAt: exp! * 1000 });
        // logout → "revoked" → Sessions.closeToken disconnects synchronously.
        assert.ok(!server.io.of("/").sockets.has(id), "the revoked token's socket is still connected");
      } else {
        await eventually(() => !server.io.of("/").sockets.has(id), "the server dropped the socket");
      }

      const probeId = await bystander.probe();
      assert.deepEqual((await storedEvents(tdb.db, roomId)).map((r) => r.client_id), [...rowsBefore.map((r) => r.client_id), probeId]);
    });
  });

  describe(`a flood of sends is rate limited (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    let sender: TestUser;
    let roomId: string;
    let bystander: Awaited<ReturnType<typeof joinBystander>>;

    before(async () => {
      tdb = await openTestDatabase(driver);
      server = await startTestServer(tdb.db, { COACHWIRE_SEND_RATE_PER_S: "5", COACHWIRE_SEND_BURST: "10" });
      const coach = await createUser(tdb.db, "coach");
      sender = await createUser(tdb.db);
      roomId = await createRoom(tdb.db, [coach, sender]);
      bystander = await joinBystander(server, coach, roomId);
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    test("60 sends at once: some RATE_LIMITED (retryable), one gap-free row per ok ack, bystander unaffected", async () => {
      const socket = server.rawSocket({ token: await server.tokenFor(sender) });
      await connectRaw(socket);
      const before = await storedEvents(tdb.db, roomId);
      const acks = await within(
        Promise.all(
          Array.from({ length: 60 }, (_, n) =>
            request(socket, "msg:send", [{ roomId, clientId: `flood-${n}`, body: { text: `flood ${n}` } }]),
          ),
        ),
        "acks for all 60 sends",
      );
      const ok = acks.filter((a): a is Extract<Ack, { ok: true }> => a.ok);
      const refused = acks.filter((a): a is Extract<Ack, { ok: false }> => !a.ok);
      assert.ok(ok.length > 0, "the burst lets some through");
      assert.ok(refused.length > 0, "the flood is limited");
      for (const r of refused) assertCodedError(r, "RATE_LIMITED");
      assert.ok(refused.every((r) => r.error.retryable));

      const all = await storedEvents(tdb.db, roomId);
      assert.equal(all.length - before.length, ok.length, "one row per ok ack, none for refused sends");
      const seqs = all.map((r) => Number(r.seq));
      assert.deepEqual(seqs, Array.from({ length: all.length }, (_, i) => i + 1), "stored seqs are gap-free");
      const fresh = seqs.slice(before.length);
      assert.deepEqual(ok.map((a) => a.seq).sort((a, b) => a! - b!), fresh, "every ok ack names a stored seq");

      const probeId = await bystander.probe();
      const last = (await storedEvents(tdb.db, roomId)).at(-1)!;
      assert.equal(last.client_id, probeId);
      assert.equal(Number(last.seq), all.length + 1);
      socket.disconnect();
    });
  });
}
