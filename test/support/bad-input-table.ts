import { isChannel } from "../../server/log/audience.ts";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Socket } from "socket.io-client";
import { ERROR_CATALOG, type ErrorCode } from "../../protocol/errors.ts";
import type { RoomEvent } from "../../protocol/events.ts";
import { openTestDatabase, type TestDatabase } from "./databases.ts";
import { createRoom, createUser, storedEvents, type TestUser } from "./fixtures.ts";
import { connectRaw, eventually, startTestServer, type TestServer } from "./server.ts";

// The adversarial table (Centrifugo style) that bad-frames.test.ts and bad-requests.test.ts
// fill: every bad input has one expected outcome — a coded error ack, a refused handshake, a
// server-side close, or silence — and after each one nothing is in room_events that was not
// there before, and a bystander in the room still sends and receives.

/** What the attacker does, and what the server must answer. */
export type BadInput =
  /** A request event with raw arguments (an ack callback is appended) → `{ok:false,error:{code}}`. */
  | { kind: "request"; name: string; as?: "outsider"; event: string; args: RequestArgs; code: ErrorCode; says?: RegExp }
  /** Something written on an open connection → the server closes that connection. */
  | { kind: "close"; name: string; write: (socket: Socket, ctx: Ctx) => void }
  /** The handshake auth payload → connect_error with `err.data.code`. */
  | { kind: "handshake"; name: string; auth: (ctx: Ctx) => Promise<Record<string, unknown>>; code: ErrorCode }
  /** Something the server must ignore: no answer, nothing written, the connection stays usable. */
  | { kind: "ignored"; name: string; send: (socket: Socket, ctx: Ctx, answered: () => void) => void };

export type RequestArgs = (ctx: Ctx) => unknown[] | Promise<unknown[]>;

/** What a case sees: the room under attack, a member of it, and the server. */
export interface Ctx {
  roomId: string;
  member: TestUser;
  server: TestServer;
}

/** A well-formed send, to be broken one field at a time. */
export const send = (ctx: Ctx, overrides: Record<string, unknown> = {}) => ({
  roomId: ctx.roomId,
  clientId: `c-${randomUUID()}`,
  body: { text: "hello" },
  ...overrides,
});

export type Ack = { ok: true; seq?: number } | { ok: false; error: { code: string; message: string; retryable: boolean } };

/** Bounds a wait so a missing answer fails the test instead of hanging it. */
export function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what}`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Emits a request with raw arguments and resolves with its ack. */
export const request = (socket: Socket, event: string, args: unknown[]) =>
  new Promise<Ack>((resolve) => socket.emit(event, ...args, (res: Ack) => resolve(res)));

/** Resolves with the disconnect reason when the socket closes. */
export const whenClosed = (socket: Socket) => new Promise<string>((resolve) => socket.once("disconnect", (reason) => resolve(reason)));

/** Asserts an ack is `{ok:false}` with `code` and the catalog's retryable flag. */
export function assertCodedError(res: Ack, code: ErrorCode): void {
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
export async function joinBystander(server: TestServer, user: TestUser, roomId: string) {
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

/** What a table's own extra tests share with its cases, set in the suite's before(). */
export interface Arena extends Ctx {
  tdb: TestDatabase;
  outsider: TestUser;
  bystander: Awaited<ReturnType<typeof joinBystander>>;
}

/**
 * A suite that runs each input against one server (msgpack, with a rate limit too generous to
 * meet) and checks it did no harm; `more` adds tests of its own on the same server and room.
 */
export function describeBadInputs(title: string, driver: "pg" | "pglite", inputs: BadInput[], more?: (arena: Arena) => void): void {
  describe(title, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    let member: TestUser;
    let outsider: TestUser;
    let roomId: string;
    let bystander: Arena["bystander"];
    const ctx = {} as Arena; // what the cases and `more` see, filled in before()

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
      Object.assign(ctx, { roomId, member, server, tdb, outsider, bystander });
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
          // Its own id and its user channel (joined on connect) only: no chat room.
          assert.deepEqual([...(serverSide?.rooms ?? [])].filter((r) => !isChannel(r)), [socket.id], "a refused request never subscribes");
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

    for (const input of inputs) {
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

    more?.(ctx);
  });
}
