import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import type { Socket } from "socket.io-client";
import type { CoachClient } from "../protocol/client.ts";
import { ERROR_CATALOG, type ErrorCode, type WireError } from "../protocol/errors.ts";
import { RETIRED_JWT_SECRET } from "../server/config.ts";
import { MAX_BODY_BYTES } from "../server/http/route.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { connectRaw, eventually, handshakeRefusal, startTestServer, TEST_JWT_SECRET, type TestServer } from "./support/server.ts";

// Login, refresh, logout and the socket handshake, end to end over real HTTP and real
// Socket.IO clients, on every available database.

interface TokenPairBody {
  ok: true;
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  user: { id: string; email: string; displayName: string; role: string };
}

interface Reply {
  status: number;
  body: unknown;
}

/** One HTTP request; a non-string body is sent as JSON. */
async function http(
  baseUrl: string,
  method: "GET" | "POST",
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers,
    ...(options.body !== undefined ? { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) } : {}),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * Asserts a catalog error reply: the code's status and the `{ok:false, error:{code,message,retryable}}`
 * shape, plus the retry hint (`retryAfterMs`, `retryWindowMs`) exactly when the code is retryable.
 */
function assertError(reply: Reply, code: ErrorCode): WireError {
  const entry = ERROR_CATALOG[code];
  assert.equal(reply.status, entry.status, `expected ${entry.status} ${code}, got ${reply.status} ${JSON.stringify(reply.body)}`);
  const body = reply.body as { ok: boolean; error: WireError };
  assert.equal(body.ok, false);
  const hint = entry.retryable ? ["retryAfterMs", "retryWindowMs"] : [];
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", ...hint, "retryable"].sort());
  if (entry.retryable) assert.ok(body.error.retryAfterMs! >= 0 && body.error.retryWindowMs! > 0, JSON.stringify(body.error));
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, "string");
  assert.equal(body.error.retryable, entry.retryable);
  return body.error;
}

function assertTokenPair(reply: Reply): TokenPairBody {
  assert.equal(reply.status, 200, `expected 200, got ${reply.status} ${JSON.stringify(reply.body)}`);
  const body = reply.body as TokenPairBody;
  assert.equal(body.ok, true);
  assert.equal(typeof body.accessToken, "string");
  assert.equal(body.accessToken.split(".").length, 3, "the access token is a JWT");
  assert.equal(typeof body.refreshToken, "string");
  assert.ok(body.refreshToken.length >= 16);
  return body;
}

/** An access token signed like the server's, expiring `seconds` from now (whole seconds, as JWT `exp`). */
async function accessTokenExpiringIn(user: Pick<TestUser, "id" | "role" | "institutionId">, seconds: number, secret = TEST_JWT_SECRET) {
  const jti = randomUUID();
  const token = await new SignJWT({ role: user.role, inst: user.institutionId })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer("coachwire")
    .setSubject(user.id)
    .setJti(jti)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(secret));
  return { token, jti };
}

for (const driver of await availableDrivers()) {
  describe(`auth over HTTP and the socket handshake (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;

    before(async () => {
      tdb = await openTestDatabase(driver);
      // Login and refresh share a per-IP limiter; this suite is one IP making many calls.
      server = await startTestServer(tdb.db, { COACHWIRE_LOGIN_RATE_PER_MIN: "100000" });
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    const login = (email: string, password: string) => http(server.url, "POST", "/api/auth/login", { body: { email, password } });
    const refresh = (refreshToken: string) => http(server.url, "POST", "/api/auth/refresh", { body: { refreshToken } });
    const logout = (token: string | undefined, body?: unknown) =>
      http(server.url, "POST", "/api/auth/logout", { ...(token !== undefined ? { token } : {}), ...(body !== undefined ? { body } : {}) });
    const loggedIn = async (user: TestUser) => assertTokenPair(await login(user.email, user.password));

    /** The principal the server holds for a connected socket. */
    function serverPrincipal(socket: Socket) {
      const serverSocket = server.io.of("/").sockets.get(socket.id ?? "");
      assert.ok(serverSocket, "the server knows this socket");
      return serverSocket.data.principal;
    }

    test("the right password gives an access token, a refresh token and the user; the token opens a socket", async () => {
      const user = await createUser(tdb.db, "coach");
      const body = await loggedIn(user);
      assert.deepEqual(body.user, { id: user.id, email: user.email, displayName: `User ${user.id}`, role: "coach", institutionId: "demo" });
      assert.ok(body.accessExpiresAt > Date.now());
      const socket = server.rawSocket({ token: body.accessToken });
      await connectRaw(socket);
      assert.equal(serverPrincipal(socket).userId, user.id);
      socket.disconnect();
    });

    test("a wrong password and an unknown email get the same 401 INVALID_CREDENTIALS body", async () => {
      const user = await createUser(tdb.db);
      const wrongPassword = await login(user.email, "not-the-password");
      const unknownEmail = await login(`nobody-${randomUUID()}@test.coachwire`, user.password);
      assertError(wrongPassword, "INVALID_CREDENTIALS");
      assertError(unknownEmail, "INVALID_CREDENTIALS");
      assert.deepEqual(wrongPassword.body, unknownEmail.body, "the reply must not tell which one was wrong");
    });

    test("the email is matched case-insensitively and without surrounding spaces", async () => {
      const user = await createUser(tdb.db);
      const body = assertTokenPair(await login(`  ${user.email.toUpperCase()} `, user.password));
      assert.equal(body.user.id, user.id);
      assert.equal(body.user.email, user.email);
    });

    test("malformed JSON is 400 BAD_REQUEST; a body of the wrong shape is 400 VALIDATION_FAILED", async () => {
      const user = await createUser(tdb.db);
      assertError(await http(server.url, "POST", "/api/auth/login", { body: "{not json" }), "BAD_REQUEST");
      assertError(await http(server.url, "POST", "/api/auth/login"), "BAD_REQUEST"); // no body at all
      assertError(await http(server.url, "POST", "/api/auth/refresh", { body: "[1," }), "BAD_REQUEST");
      for (const body of [
        { email: user.email },
        { email: 42, password: user.password },
        { email: user.email, password: user.password, role: "admin" }, // strict: unknown keys are refused
        [user.email, user.password],
        "a string",
        null,
      ]) {
        assertError(await http(server.url, "POST", "/api/auth/login", { body: JSON.stringify(body) }), "VALIDATION_FAILED");
      }
      assertError(await refresh("short"), "VALIDATION_FAILED");
    });

    test("a body over 64 KiB is 413 PAYLOAD_TOO_LARGE; one of exactly 64 KiB is read", async () => {
      const user = await createUser(tdb.db);
      const padded = (bytes: number) => {
        const skeleton = JSON.stringify({ email: user.email, password: "" });
        return JSON.stringify({ email: user.email, password: "p".repeat(bytes - skeleton.length) });
      };
      assert.equal(Buffer.byteLength(padded(MAX_BODY_BYTES + 1)), MAX_BODY_BYTES + 1);
      assertError(await http(server.url, "POST", "/api/auth/login", { body: padded(MAX_BODY_BYTES + 1) }), "PAYLOAD_TOO_LARGE");
      assertError(await http(server.url, "POST", "/api/auth/login", { body: "x".repeat(1024 * 1024) }), "PAYLOAD_TOO_LARGE");
      // At the limit the body is read and parsed (then the over-long password fails the schema).
      assertError(await http(server.url, "POST", "/api/auth/login", { body: padded(MAX_BODY_BYTES) }), "VALIDATION_FAILED");
      // The server is still fine afterwards.
      assertTokenPair(await login(user.email, user.password));
    });

    test("an unknown path is 404 NOT_FOUND; a known path with the wrong method is 405 METHOD_NOT_ALLOWED", async () => {
      assertError(await http(server.url, "GET", "/api/auth/nope"), "NOT_FOUND");
      assertError(await http(server.url, "POST", "/api/nothing-here", { body: {} }), "NOT_FOUND");
      assertError(await http(server.url, "GET", "/api/auth/login"), "METHOD_NOT_ALLOWED");
      assertError(await http(server.url, "GET", "/api/auth/refresh"), "METHOD_NOT_ALLOWED");
      assertError(await http(server.url, "POST", "/healthz", { body: {} }), "METHOD_NOT_ALLOWED");
    });

    test("GET /healthz answers 200 {ok:true, pid} and /readyz 200 {ok:true}", async () => {
      assert.deepEqual(await http(server.url, "GET", "/healthz"), { status: 200, body: { ok: true, pid: process.pid } });
      assert.deepEqual(await http(server.url, "GET", "/readyz"), { status: 200, body: { ok: true } });
    });

    test("refresh rotates; reusing a rotated token is TOKEN_REVOKED and ends its whole family, and only it", async () => {
      const user = await createUser(tdb.db);
      const first = await loggedIn(user);
      const elsewhere = await loggedIn(user); // another device: another family

      const second = assertTokenPair(await refresh(first.refreshToken));
      assert.notEqual(second.refreshToken, first.refreshToken);
      assert.notEqual(second.accessToken, first.accessToken);
      assert.equal(second.user.id, user.id);
      const third = assertTokenPair(await refresh(second.refreshToken)); // the new one works
      const socket = server.rawSocket({ token: third.accessToken });
      await connectRaw(socket); // and so does the access token it came with
      socket.disconnect();

      assertError(await refresh(first.refreshToken), "TOKEN_REVOKED"); // reuse of a rotated token
      assertError(await refresh(third.refreshToken), "TOKEN_REVOKED"); // the family is over
      assertTokenPair(await refresh(elsewhere.refreshToken)); // the other family is not
      assertError(await refresh(`unknown-${randomUUID()}`), "TOKEN_INVALID");
    });

    test("logout revokes the access token at the handshake and on live sockets, and the refresh family; others stay", async () => {
      const alice = await createUser(tdb.db);
      const bob = await createUser(tdb.db);
      const roomId = await createRoom(tdb.db, [bob]);
      const session = await loggedIn(alice);
      const otherSession = await loggedIn(alice);

      const aliceClient = await server.client(alice, { tokens: { accessToken: session.accessToken } });
      const notices: unknown[] = [];
      aliceClient.socket.on("session:closing", (notice) => notices.push(notice));
      let closedFor: string | undefined;
      aliceClient.on("closed", (reason) => (closedFor = reason));
      const aliceRaw = server.rawSocket({ token: session.accessToken }); // the same token on a second socket
      const rawNotices: unknown[] = [];
      aliceRaw.on("session:closing", (notice) => rawNotices.push(notice));
      await connectRaw(aliceRaw);
      const bobClient = await server.client(bob);
      await bobClient.join(roomId);

      assert.deepEqual(await logout(session.accessToken, { refreshToken: session.refreshToken }), { status: 200, body: { ok: true } });

      await eventually(() => closedFor !== undefined, "the SDK reports its session closed");
      assert.equal(closedFor, "token revoked");
      assert.deepEqual(notices, [{ reason: "token revoked", reconnect: false }]);
      await eventually(() => !aliceRaw.connected, "the raw socket with the same token is disconnected");
      assert.deepEqual(rawNotices, [{ reason: "token revoked", reconnect: false }]);
      assert.equal(aliceClient.socket.connected, false);

      assert.equal((await handshakeRefusal(server.rawSocket({ token: session.accessToken }))).code, "TOKEN_REVOKED");
      assertError(await refresh(session.refreshToken), "TOKEN_REVOKED");
      assertError(await logout(session.accessToken), "TOKEN_REVOKED");

      // Bob's session and Alice's other login are untouched.
      assert.equal(bobClient.socket.connected, true);
      assert.ok((await bobClient.send(roomId, { text: "still here" })).seq >= 1);
      const other = server.rawSocket({ token: otherSession.accessToken });
      await connectRaw(other);
      other.disconnect();
      assertTokenPair(await refresh(otherSession.refreshToken));
      bobClient.close();
    });

    test("logout ends the whole family: a sibling access token from a refresh, and its socket, are revoked too", async () => {
      const user = await createUser(tdb.db);
      const first = await loggedIn(user);
      const second = assertTokenPair(await refresh(first.refreshToken)); // same family, a sibling access token
      const otherDevice = await loggedIn(user);
      const sockets = [server.rawSocket({ token: first.accessToken }), server.rawSocket({ token: second.accessToken })];
      const notices: unknown[][] = sockets.map(() => []);
      sockets.forEach((s, i) => s.on("session:closing", (n) => notices[i]!.push(n)));
      for (const s of sockets) await connectRaw(s);
      const bystander = server.rawSocket({ token: otherDevice.accessToken });
      await connectRaw(bystander);

      // Log out with the newer access token only (no refresh token in the body).
      assert.deepEqual(await logout(second.accessToken), { status: 200, body: { ok: true } });
      await eventually(() => sockets.every((s) => !s.connected), "every socket of the family is disconnected");
      assert.deepEqual(notices, [[{ reason: "token revoked", reconnect: false }], [{ reason: "token revoked", reconnect: false }]]);
      for (const token of [first.accessToken, second.accessToken]) {
        assert.equal((await handshakeRefusal(server.rawSocket({ token }))).code, "TOKEN_REVOKED");
        assertError(await http(server.url, "GET", "/api/rooms", { token }), "TOKEN_REVOKED");
      }
      assertError(await refresh(second.refreshToken), "TOKEN_REVOKED");
      // The other login is another family: untouched.
      assert.equal(bystander.connected, true);
      assert.equal((await http(server.url, "GET", "/api/rooms", { token: otherDevice.accessToken })).status, 200);
      assertTokenPair(await refresh(otherDevice.refreshToken));
      bystander.disconnect();
    });

    test("a detected refresh-token reuse revokes the family's live access tokens and closes their sockets", async () => {
      const user = await createUser(tdb.db);
      const first = await loggedIn(user);
      const second = assertTokenPair(await refresh(first.refreshToken));
      const socket = server.rawSocket({ token: second.accessToken });
      const notices: unknown[] = [];
      socket.on("session:closing", (n) => notices.push(n));
      await connectRaw(socket);

      assertError(await refresh(first.refreshToken), "TOKEN_REVOKED"); // the spent token again: reuse
      await eventually(() => !socket.connected, "the family's socket is disconnected");
      assert.deepEqual(notices, [{ reason: "token revoked", reconnect: false }]);
      assert.equal((await handshakeRefusal(server.rawSocket({ token: second.accessToken }))).code, "TOKEN_REVOKED");
      assertError(await http(server.url, "GET", "/api/rooms", { token: second.accessToken }), "TOKEN_REVOKED");
      assertError(await refresh(second.refreshToken), "TOKEN_REVOKED");
    });

    test("a logout survives a restart: the denylist is in the database when there is no Redis", async () => {
      const user = await createUser(tdb.db);
      const first = await startTestServer(tdb.db, { COACHWIRE_LOGIN_RATE_PER_MIN: "100000" });
      const session = assertTokenPair(await http(first.url, "POST", "/api/auth/login", { body: { email: user.email, password: user.password } }));
      // A token minted outside login (no family claim) is revoked by its own id only.
      const minted = await accessTokenExpiringIn(user, 600);
      assert.equal((await http(first.url, "POST", "/api/auth/logout", { token: session.accessToken })).status, 200);
      assert.equal((await http(first.url, "POST", "/api/auth/logout", { token: minted.token })).status, 200);
      await first.close();

      const restarted = await startTestServer(tdb.db);
      try {
        for (const token of [session.accessToken, minted.token]) {
          assert.equal((await handshakeRefusal(restarted.rawSocket({ token }))).code, "TOKEN_REVOKED");
          assertError(await http(restarted.url, "GET", "/api/rooms", { token }), "TOKEN_REVOKED");
        }
      } finally {
        await restarted.close();
      }
    });

    test("a password change survives a restart: the user's session cutoff is in the database when there is no Redis", async () => {
      const user = await createUser(tdb.db);
      const first = await startTestServer(tdb.db, { COACHWIRE_LOGIN_RATE_PER_MIN: "100000" });
      const login = () => http(first.url, "POST", "/api/auth/login", { body: { email: user.email, password: user.password } });
      const otherDevice = assertTokenPair(await login());
      const here = assertTokenPair(await login());
      const newPassword = `Changed-${randomUUID()}`;
      const changed = assertTokenPair(
        await http(first.url, "POST", "/api/me/password", { token: here.accessToken, body: { currentPassword: user.password, newPassword } }),
      );
      await first.close();

      const restarted = await startTestServer(tdb.db);
      try {
        // The other device's access token was signed before the change: still refused after the restart.
        assert.equal((await handshakeRefusal(restarted.rawSocket({ token: otherDevice.accessToken }))).code, "TOKEN_REVOKED");
        assertError(await http(restarted.url, "GET", "/api/rooms", { token: otherDevice.accessToken }), "TOKEN_REVOKED");
        // The pair the change answered is the one that still works.
        assert.equal((await http(restarted.url, "GET", "/api/rooms", { token: changed.accessToken })).status, 200);
      } finally {
        await restarted.close();
      }
    });

    test("a well-signed token for a user id that does not exist is 401 TOKEN_INVALID on REST and at the handshake, never 500", async () => {
      const ghost = { id: `ghost-${randomUUID()}`, role: "coach" as const, institutionId: "demo" };
      const { token } = await accessTokenExpiringIn(ghost, 600);
      assert.equal((await handshakeRefusal(server.rawSocket({ token }))).code, "TOKEN_INVALID");
      // Creating a room as the ghost used to reach the database's foreign key: 500 INTERNAL, retryable.
      assertError(await http(server.url, "POST", "/api/rooms", { token, body: { name: "haunted" } }), "TOKEN_INVALID");
      assertError(await http(server.url, "GET", "/api/rooms", { token }), "TOKEN_INVALID");
      assertError(await logout(token), "TOKEN_INVALID");
      // A user deleted after their token was signed: the same.
      const gone = await createUser(tdb.db);
      const goneToken = (await accessTokenExpiringIn(gone, 600)).token;
      await tdb.db.query("DELETE FROM users WHERE id = $1", [gone.id]);
      assertError(await http(server.url, "GET", "/api/rooms", { token: goneToken }), "TOKEN_INVALID");
    });

    test("logout with someone else's refresh token does not revoke it", async () => {
      const alice = await createUser(tdb.db);
      const bob = await createUser(tdb.db);
      const aliceSession = await loggedIn(alice);
      const bobSession = await loggedIn(bob);
      assert.equal((await logout(aliceSession.accessToken, { refreshToken: bobSession.refreshToken })).status, 200);
      assertTokenPair(await refresh(bobSession.refreshToken));
    });

    test("logout without a usable access token is refused", async () => {
      const user = await createUser(tdb.db);
      const session = await loggedIn(user);
      assertError(await logout(undefined, { refreshToken: session.refreshToken }), "UNAUTHENTICATED");
      assertError(await logout("not-a-jwt", { refreshToken: session.refreshToken }), "TOKEN_INVALID");
      const forged = await accessTokenExpiringIn(user, 600, "another-secret-that-is-long-enough-0123456789");
      assertError(await logout(forged.token, { refreshToken: session.refreshToken }), "TOKEN_INVALID");
      assertError(await http(server.url, "POST", "/api/auth/logout", { headers: { authorization: session.accessToken } }), "UNAUTHENTICATED");
      // Nothing was revoked by the refused calls.
      assertTokenPair(await refresh(session.refreshToken));
    });

    test("the handshake refuses a missing, forged or expired access token with its code", async () => {
      const user = await createUser(tdb.db);
      assert.equal((await handshakeRefusal(server.rawSocket({}))).code, "UNAUTHENTICATED");
      assert.equal((await handshakeRefusal(server.rawSocket({ token: "garbage" }))).code, "TOKEN_INVALID");
      const forged = await accessTokenExpiringIn(user, 600, "another-secret-that-is-long-enough-0123456789");
      assert.equal((await handshakeRefusal(server.rawSocket({ token: forged.token }))).code, "TOKEN_INVALID");
      const expired = await accessTokenExpiringIn(user, -5);
      const refusal = await handshakeRefusal(server.rawSocket({ token: expired.token }));
      assert.equal(refusal.code, "TOKEN_EXPIRED");
      assert.equal(refusal.retryable, true);
    });

    test("a token that expires while connected closes the session with reconnect:true; the SDK refreshes and comes back", async () => {
      const user = await createUser(tdb.db);
      const roomId = await createRoom(tdb.db, [user]);
      const session = await loggedIn(user);
      const shortLived = await accessTokenExpiringIn(user, 3);
      const client: CoachClient = await server.client(user, {
        tokens: { accessToken: shortLived.token, refreshToken: session.refreshToken },
        reconnectJitterMs: 0,
      });
      const notices: unknown[] = [];
      const disconnects: string[] = [];
      let reconnects = 0;
      let closedFor: string | undefined;
      client.socket.on("session:closing", (notice) => notices.push(notice));
      client.on("disconnected", (reason) => disconnects.push(reason));
      client.on("connected", () => reconnects++);
      client.on("closed", (reason) => (closedFor = reason));
      await client.join(roomId);
      assert.equal(serverPrincipal(client.socket).jti, shortLived.jti);

      await eventually(() => reconnects >= 1 || closedFor !== undefined, "the SDK reconnected after the token expired");
      assert.equal(closedFor, undefined);
      assert.deepEqual(notices, [{ reason: "token expired", reconnect: true, retryAfterMs: 0, retryWindowMs: 1000 }]);
      assert.deepEqual(disconnects, ["io server disconnect"]);
      assert.equal(client.socket.connected, true);
      const principal = serverPrincipal(client.socket);
      assert.equal(principal.userId, user.id);
      assert.notEqual(principal.jti, shortLived.jti, "it came back with a different access token");
      assert.ok(principal.expiresAt > Date.now() + 60_000, "the new token has the server's TTL");
      assert.ok((await client.send(roomId, { text: "after refresh" })).seq >= 1);
      // The SDK rotated the refresh token: the one it started with is spent.
      assertError(await refresh(session.refreshToken), "TOKEN_REVOKED");
      client.close();
    });

    describe("the JWT secret without COACHWIRE_JWT_SECRET", () => {
      test("is generated per installation and kept in its database across restarts; the retired public default verifies nothing", async () => {
        const user = await createUser(tdb.db);
        const stored = async (db = tdb.db) => (await db.query<{ value: string }>("SELECT value FROM server_secrets WHERE name = 'jwt'")).rows;
        // The suite's own server signs with TEST_JWT_SECRET; its database has no generated secret yet.
        await tdb.db.query("DELETE FROM server_secrets");
        const first = await startTestServer(tdb.db, { COACHWIRE_JWT_SECRET: "" });
        const token = await first.tokenFor(user);
        await first.close();
        const rows = await stored();
        assert.equal(rows.length, 1, "one generated secret");
        const secret = rows[0]!.value;
        assert.ok(secret.length >= 32, `a secret of ${secret.length} characters`);
        assert.notEqual(secret, RETIRED_JWT_SECRET);
        assert.notEqual(secret, TEST_JWT_SECRET);

        const restarted = await startTestServer(tdb.db, { COACHWIRE_JWT_SECRET: "" });
        const elsewhere = await openTestDatabase(driver);
        try {
          assert.deepEqual(await stored(), rows, "a restart keeps the secret");
          const again = restarted.rawSocket({ token });
          await connectRaw(again); // the token signed before the restart still verifies
          again.disconnect();
          const own = await accessTokenExpiringIn(user, 600, secret);
          assert.equal((await http(restarted.url, "GET", "/api/rooms", { token: own.token })).status, 200);
          for (const other of [RETIRED_JWT_SECRET, TEST_JWT_SECRET]) {
            const forged = await accessTokenExpiringIn(user, 600, other);
            assert.equal((await handshakeRefusal(restarted.rawSocket({ token: forged.token }))).code, "TOKEN_INVALID");
            assertError(await http(restarted.url, "GET", "/api/rooms", { token: forged.token }), "TOKEN_INVALID");
          }
          // Another installation (another database) makes a secret of its own.
          const another = await startTestServer(elsewhere.db, { COACHWIRE_JWT_SECRET: "" });
          await another.close();
          const theirs = await stored(elsewhere.db);
          assert.equal(theirs.length, 1);
          assert.notEqual(theirs[0]!.value, secret);
        } finally {
          await restarted.close();
          await elsewhere.drop();
        }
      });
    });

    describe("login rate limit per IP", () => {
      let limited: TestServer;

      before(async () => {
        limited = await startTestServer(tdb.db, { COACHWIRE_LOGIN_RATE_PER_MIN: "3" });
      });
      after(async () => {
        await limited.close();
      });

      test("the 4th attempt in a minute is 429 RATE_LIMITED (retryable), even with the right password", async () => {
        const user = await createUser(tdb.db);
        const attempt = (password: string, headers: Record<string, string> = {}) =>
          http(limited.url, "POST", "/api/auth/login", { body: { email: user.email, password }, headers });
        for (let n = 0; n < 3; n++) assertError(await attempt("wrong-password"), "INVALID_CREDENTIALS");
        const fourth = assertError(await attempt("wrong-password"), "RATE_LIMITED");
        assert.equal(fourth.retryable, true);
        assertError(await attempt(user.password), "RATE_LIMITED");
        // Proxies are not trusted by default: a forged X-Forwarded-For is not a fresh IP.
        assertError(await attempt(user.password, { "x-forwarded-for": "203.0.113.7" }), "RATE_LIMITED");
        // Refresh counts against the same IP budget.
        assertError(await http(limited.url, "POST", "/api/auth/refresh", { body: { refreshToken: "x".repeat(43) } }), "RATE_LIMITED");
      });
    });
  });
}
