import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, test } from "node:test";
import { ERROR_CATALOG } from "../protocol/errors.ts";
import { useRoomFixture } from "./support/room-fixture.ts";
import { createUser } from "./support/fixtures.ts";

// Limits a product needs (issue 9, defect 11): logins limited per account without a lockout
// button, quotas on what users create, and the subject catalog paged. (Sockets per user and
// the polling transport: handshake-abuse.test.ts.)

interface Answer {
  status: number;
  body: { ok: boolean; error?: { code: string; message: string; retryable: boolean }; [key: string]: unknown };
}

/** An HTTP request from a chosen loopback address (each address is a different client IP to the server). */
function call(base: string, method: string, path: string, opts: { from?: string; token?: string; body?: unknown } = {}): Promise<Answer> {
  const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      {
        method,
        localAddress: opts.from ?? "127.0.0.1",
        headers: { ...(data ? { "content-type": "application/json" } : {}), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer["body"] }));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

const code = (a: Answer) => a.body.error?.code ?? "ok";

describe("login limits per account", () => {
  const room = useRoomFixture({
    COACHWIRE_LOGIN_RATE_PER_MIN: "1000",
    COACHWIRE_HTTP_RATE_PER_MIN: "100000",
    COACHWIRE_LOGIN_ACCOUNT_IP_ATTEMPTS: "3",
    COACHWIRE_LOGIN_ACCOUNT_ATTEMPTS: "5",
    COACHWIRE_LOGIN_ACCOUNT_WINDOW_S: "3600",
  });
  const login = (email: string, password: string, from: string) => call(room.server.url, "POST", "/api/auth/login", { from, body: { email, password } });

  test("guessing from one address backs off that address for that account, and guessing spread over addresses cannot lock the owner out of a source they logged in from", async () => {
    const victim = room.students[0]!;
    const bystander = await createUser(room.tdb.db);
    // The owner logs in from home (127.0.0.1): that source is now known-good for the account.
    assert.equal(code(await login(victim.email, victim.password, "127.0.0.1")), "ok");

    // One address guesses: 3 wrong passwords (COACHWIRE_LOGIN_ACCOUNT_IP_ATTEMPTS), then it is
    // refused before the password is checked: even the right one is RATE_LIMITED from there.
    for (let i = 0; i < 3; i++) assert.equal(code(await login(victim.email, `wrong-${i}`, "127.0.0.2")), "INVALID_CREDENTIALS");
    const backedOff = await login(victim.email, victim.password, "127.0.0.2");
    assert.equal(backedOff.status, 429);
    assert.equal(code(backedOff), "RATE_LIMITED");
    assert.equal(backedOff.body.error!.retryable, ERROR_CATALOG.RATE_LIMITED.retryable);
    // That address's backoff is for this account only.
    assert.equal(code(await login(bystander.email, bystander.password, "127.0.0.2")), "ok");

    // Two more wrong guesses from other addresses use up the account's cap for unknown sources (5).
    assert.equal(code(await login(victim.email, "wrong-a", "127.0.0.3")), "INVALID_CREDENTIALS");
    assert.equal(code(await login(victim.email, "wrong-b", "127.0.0.4")), "INVALID_CREDENTIALS");
    assert.equal(code(await login(victim.email, victim.password, "127.0.0.5")), "RATE_LIMITED", "a new address is refused, right password or not");

    // The owner's known source is not subject to the account cap.
    assert.equal(code(await login(victim.email, victim.password, "127.0.0.1")), "ok");
    // An account that does not exist is limited the same way (no telling which emails exist).
    const ghost = "nobody@test.coachwire";
    for (let i = 0; i < 3; i++) assert.equal(code(await login(ghost, "x", "127.0.0.6")), "INVALID_CREDENTIALS");
    assert.equal(code(await login(ghost, "x", "127.0.0.6")), "RATE_LIMITED");
  });
});

describe("creation quotas", () => {
  const room = useRoomFixture({ COACHWIRE_CREATE_QUOTA: "2", COACHWIRE_CREATE_QUOTA_WINDOW_S: "3600" });

  test("tasks: the quota's worth are created, the next is QUOTA_EXCEEDED, a repeat of an earlier one still answers duplicate", async () => {
    const { server, coach, roomId } = room;
    const client = await server.client(coach);
    const first = await client.createTask({ roomId, clientId: "quota-1", title: "one" });
    await client.createTask({ roomId, clientId: "quota-2", title: "two" });
    // Asked once, raw: the SDK would retry a retryable refusal until its deadline.
    const third = (await client.socket.emitWithAck("task:create", { roomId, clientId: "quota-3", title: "three" })) as Answer["body"];
    assert.equal(third.ok, false);
    assert.equal(third.error?.code, "QUOTA_EXCEEDED");
    assert.equal(third.error?.retryable, true);
    const again = await client.createTask({ roomId, clientId: "quota-1", title: "one" });
    assert.equal(again.duplicate, true);
    assert.equal(again.task.id, first.task.id);
  });

  test("rooms, join codes and subjects have a quota each; a refused request costs none; another user has their own", async () => {
    const { server, roomId } = room;
    const coach = await createUser(room.tdb.db, "coach");
    const token = await server.tokenFor(coach);
    const post = (path: string, body: unknown) => call(server.url, "POST", path, { token, body });
    const made: string[] = [];
    for (const name of ["A", "B"]) {
      const res = await post("/api/rooms", { name });
      assert.equal(res.status, 201);
      made.push((res.body["room"] as { id: string }).id);
    }
    const third = await post("/api/rooms", { name: "C" });
    assert.equal(third.status, 429);
    assert.equal(code(third), "QUOTA_EXCEEDED");
    assert.equal(third.body.error!.retryable, true);

    // Join codes: a refused one (not the room's coach) costs nothing.
    assert.equal(code(await post(`/api/rooms/${roomId}/join-codes`, {})), "NOT_A_MEMBER");
    assert.equal((await post(`/api/rooms/${made[0]}/join-codes`, {})).status, 201);
    assert.equal((await post(`/api/rooms/${made[0]}/join-codes`, {})).status, 201);
    assert.equal(code(await post(`/api/rooms/${made[0]}/join-codes`, {})), "QUOTA_EXCEEDED");

    // Subjects: a CONFLICT costs nothing.
    assert.equal(code(await post("/api/subjects", { name: "Matematik", topic: "Türev" })), "CONFLICT");
    assert.equal((await post("/api/subjects", { name: "Kota", topic: "Bir" })).status, 201);
    assert.equal((await post("/api/subjects", { name: "Kota", topic: "İki" })).status, 201);
    assert.equal(code(await post("/api/subjects", { name: "Kota", topic: "Üç" })), "QUOTA_EXCEEDED");

    const other = await createUser(room.tdb.db, "coach");
    assert.equal((await call(server.url, "POST", "/api/rooms", { token: await server.tokenFor(other), body: { name: "D" } })).status, 201);
  });
});

describe("GET /api/subjects", () => {
  const room = useRoomFixture({ COACHWIRE_CREATE_QUOTA: "1000" });

  test("is paged by name and topic: following nextCursor visits every subject once, in order, with pages of at most limit", async () => {
    const { server, coach } = room;
    const token = await server.tokenFor(coach);
    for (let i = 0; i < 7; i++) {
      assert.equal((await call(server.url, "POST", "/api/subjects", { token, body: { name: "Sayfa", topic: `Konu ${i}` } })).status, 201);
    }
    const seen: Array<{ id: string; name: string; topic: string }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Answer = await call(server.url, "GET", `/api/subjects?limit=4${cursor ? `&cursor=${cursor}` : ""}`, { token });
      assert.equal(res.status, 200);
      const items = res.body["items"] as typeof seen;
      assert.ok(items.length <= 4 && items.length > 0, `page ${pages + 1} has ${items.length}`);
      seen.push(...items);
      cursor = res.body["nextCursor"] as string | null;
      pages++;
    } while (cursor !== null && pages < 20);
    assert.equal(cursor, null, "the last page says so");
    assert.equal(seen.length, 8 + 7, "the 8 seeded subjects and the 7 added");
    assert.equal(new Set(seen.map((s) => s.id)).size, seen.length, "each once");
    // The default page is 50, the same as the other lists: here, the whole catalog in one page, in the same order.
    const whole = await call(server.url, "GET", "/api/subjects", { token });
    assert.deepEqual(whole.body["items"], seen);
    assert.equal(whole.body["nextCursor"], null);
  });
});
