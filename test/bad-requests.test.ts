import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import { MAX_TEXT_LENGTH } from "../protocol/schemas.ts";
import { RETIRED_JWT_SECRET } from "../server/config.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, storedEvents, type TestUser } from "./support/fixtures.ts";
import { connectRaw, startTestServer, TEST_JWT_SECRET, type TestServer } from "./support/server.ts";
import {
  assertCodedError,
  describeBadInputs,
  joinBystander,
  request,
  send,
  within,
  type Ack,
  type BadInput,
  type Ctx,
  type RequestArgs,
} from "./support/bad-input-table.ts";

// Requests and handshakes the server must refuse with a coded error — payloads of the wrong
// shape, rooms that do not exist or are not the user's, bad tokens, a flood of sends — and
// events it must ignore; none of them harms the room. Frames that close the connection:
// bad-frames.test.ts.

const nowS = () => Math.floor(Date.now() / 1000);
const sendWith = (overrides: Record<string, unknown>) => (ctx: Ctx) => [send(ctx, overrides)];
const inRoom = (ctx: Ctx) => [{ roomId: ctx.roomId }];

/** Handshake auth with an HS256 token for the member, signed with the server's secret unless told otherwise. */
const signed =
  (o: { role?: string; iss?: string; exp?: number; secret?: string; inst?: unknown; ims?: number; sub?: string }) =>
  async (ctx: Ctx): Promise<Record<string, unknown>> => ({
    token: await new SignJWT({ role: o.role ?? "student", ...("inst" in o ? (o.inst === undefined ? {} : { inst: o.inst }) : { inst: ctx.member.institutionId }), ...(o.ims ? { ims: o.ims } : {}) })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(o.iss ?? "coachwire")
      .setSubject(o.sub ?? ctx.member.id)
      .setJti(randomUUID())
      .setIssuedAt(Math.min(nowS(), (o.exp ?? Infinity) - 60))
      .setExpirationTime(o.exp ?? nowS() + 600)
      .sign(new TextEncoder().encode(o.secret ?? TEST_JWT_SECRET)),
  });

function unsignedToken(ctx: Ctx): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const claims = { sub: ctx.member.id, role: "coach", iss: "coachwire", jti: randomUUID(), exp: nowS() + 600 };
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

const VF = "VALIDATION_FAILED";
const badSend = (name: string, args: RequestArgs, says: RegExp): BadInput =>
  ({ kind: "request", name: `msg:send ${name}`, event: "msg:send", args, code: VF, says });
const NOWHERE = "no-such-room";

const BAD_REQUESTS: BadInput[] = [
  // Payloads of the wrong shape: refused before any handler runs.
  badSend("without roomId", () => [{ clientId: "c-1", body: { text: "hi" } }], /^roomId:/),
  badSend("with an extra key", sendWith({ admin: true }), /"admin"/),
  badSend("with an extra key in body", sendWith({ body: { text: "hi", html: "<b>" } }), /^body:.*"html"/),
  badSend("with empty body.text", sendWith({ body: { text: "" } }), /^body\.text:/),
  badSend("with body.text of MAX_TEXT_LENGTH+1", sendWith({ body: { text: "y".repeat(MAX_TEXT_LENGTH + 1) } }), /^body\.text:/),
  badSend("with U+0000 in body.text (jsonb cannot hold it)", sendWith({ body: { text: "a\u0000b" } }), /^body\.text:/),
  badSend("with U+0000 in a key", sendWith({ body: { text: "hi", "x\u0000": 1 } }), /^body\.x\u0000: must not contain U\+0000/),
  { kind: "request", name: "room:history with U+0000 in roomId", event: "room:history", args: () => [{ roomId: "r\u0000" }], code: VF, says: /^roomId: must not contain U\+0000/ },
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
  { kind: "handshake", name: "a token signed with the retired public default secret", auth: signed({ secret: RETIRED_JWT_SECRET }), code: "TOKEN_INVALID" },
  { kind: "handshake", name: "a well-signed token for a user id that does not exist", auth: signed({ sub: "no-such-user" }), code: "TOKEN_INVALID" },
  { kind: "handshake", name: "a well-signed token whose user id holds U+0000", auth: signed({ sub: "a\u0000b" }), code: "TOKEN_INVALID" },
  { kind: "handshake", name: "an expired token", auth: signed({ exp: nowS() - 60 }), code: "TOKEN_EXPIRED" },
  { kind: "handshake", name: "a token with a bogus role claim", auth: signed({ role: "superuser" }), code: "TOKEN_INVALID" },
  { kind: "handshake", name: "a token from another issuer", auth: signed({ iss: "someone-else" }), code: "TOKEN_INVALID" },
  { kind: "handshake", name: 'an unsigned token (alg "none")', auth: async (c) => ({ token: unsignedToken(c) }), code: "TOKEN_INVALID" },
  { kind: "handshake", name: "a token without an institution claim", auth: signed({ inst: undefined }), code: "TOKEN_INVALID" },
  { kind: "handshake", name: "a token whose institution claim is not a string", auth: signed({ inst: 7 }), code: "TOKEN_INVALID" },
  {
    kind: "handshake",
    name: "a token signed before its user's sessions were cut (deactivation, password change)",
    auth: async (c) => {
      await c.server.auth.cutSessions(c.member.id, Date.now(), "token revoked");
      return signed({ ims: Date.now() - 60_000 })(c);
    },
    code: "TOKEN_REVOKED",
  },

  // Events to ignore: no answer, nothing written, the connection stays usable.
  { kind: "ignored", name: "a valid msg:send emitted without an ack callback", send: (s, c) => s.emit("msg:send", send(c)) },
  { kind: "ignored", name: "an event name the server does not know", send: (s, c, ack) => s.emit("room:delete", { roomId: c.roomId }, ack) },
];

for (const driver of await availableDrivers()) {
  describeBadInputs(`bad requests are refused without harm (${driver})`, driver, BAD_REQUESTS);

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
