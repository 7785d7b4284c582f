import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CoachClient } from "../protocol/client.ts";
import { availableDrivers, openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { createUser, type TestUser } from "./support/fixtures.ts";
import { restClient, type Json } from "./support/rest.ts";
import { eventually, startTestServer, type TestServer } from "./support/server.ts";

/**
 * Sessions (issue 10 §10): GET /api/me/sessions lists the caller's login sessions (refresh-token
 * families: device, IP, last use, which one is current); DELETE one or all revokes their refresh
 * tokens and access tokens and closes their sockets. Another user's session answers like an
 * unknown one. PGlite and PostgreSQL.
 */

const LIMITS = { COACHWIRE_HTTP_RATE_PER_MIN: "1000000", COACHWIRE_LOGIN_RATE_PER_MIN: "100000" };

for (const driver of await availableDrivers()) {
  describe(`sessions (${driver})`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    const { ok, refused } = restClient(() => server);

    before(async () => {
      tdb = await openTestDatabase(driver);
      server = await startTestServer(tdb.db, LIMITS);
    });
    after(async () => {
      await server.close();
      await tdb.drop();
    });

    const login = (u: TestUser, agent: string) => ok(null, "POST", "/api/auth/login", { email: u.email, password: u.password }, 200, { "user-agent": agent });
    async function socketFor(accessToken: string): Promise<{ client: CoachClient; closed: () => string | undefined }> {
      const client = new CoachClient({ url: server.url, tokens: { accessToken } });
      let reason: string | undefined;
      client.on("closed", (r) => (reason = r));
      await client.connect();
      return { client, closed: () => reason };
    }

    test("GET /api/me/sessions lists each login (device, IP, last use, current); a refresh keeps the session and moves its last use", async () => {
      const user = await createUser(tdb.db, "student");
      const phone = await login(user, "Phone/1.0");
      const laptop = await login(user, "Laptop/2.0");
      const { items } = await ok({ token: laptop.accessToken }, "GET", "/api/me/sessions");
      assert.deepEqual(items.map((s: Json) => [s.userAgent, s.current]), [["Laptop/2.0", true], ["Phone/1.0", false]]);
      assert.ok(items.every((s: Json) => s.ip.length > 0 && s.lastUsedAt >= s.createdAt && typeof s.id === "string"));
      const before = items.find((s: Json) => s.userAgent === "Phone/1.0");
      const refreshed = await ok(null, "POST", "/api/auth/refresh", { refreshToken: phone.refreshToken }, 200, { "user-agent": "Phone/1.1" });
      const after = (await ok({ token: refreshed.accessToken }, "GET", "/api/me/sessions")).items;
      assert.equal(after.length, 2, "a refresh is the same session");
      const phoneNow = after.find((s: Json) => s.id === before.id);
      assert.deepEqual([phoneNow.userAgent, phoneNow.current], ["Phone/1.1", true]);
      assert.ok(phoneNow.lastUsedAt >= before.lastUsedAt);
      const other = await createUser(tdb.db, "student");
      assert.deepEqual((await ok(other, "GET", "/api/me/sessions")).items, [], "nobody else's sessions");
    });

    test("DELETE /api/me/sessions/:id ends that session only: its refresh and access tokens are refused and its socket closes", async () => {
      const user = await createUser(tdb.db, "coach");
      const keep = await login(user, "Keep/1");
      const end = await login(user, "End/1");
      const kept = await socketFor(keep.accessToken);
      const ended = await socketFor(end.accessToken);
      const { items } = await ok({ token: keep.accessToken }, "GET", "/api/me/sessions");
      const target = items.find((s: Json) => s.userAgent === "End/1");

      // Someone else's session, or an unknown id: the same answer, and nothing ends.
      const stranger = await createUser(tdb.db, "coach");
      const cross = await refused(stranger, "DELETE", `/api/me/sessions/${target.id}`, undefined, "NOT_FOUND");
      assert.deepEqual(cross, await refused(stranger, "DELETE", "/api/me/sessions/no-such-session", undefined, "NOT_FOUND"));
      await refused(stranger, "DELETE", "/api/me/sessions/bad%20id", undefined, "VALIDATION_FAILED");
      await ok({ token: end.accessToken }, "GET", "/api/me/sessions");

      await ok({ token: keep.accessToken }, "DELETE", `/api/me/sessions/${target.id}`);
      await refused({ token: end.accessToken }, "GET", "/api/me/sessions", undefined, "TOKEN_REVOKED");
      await refused(null, "POST", "/api/auth/refresh", { refreshToken: end.refreshToken }, "TOKEN_REVOKED");
      await eventually(() => ended.closed() !== undefined, "the ended session's socket closes");
      assert.equal(ended.closed(), "token revoked");
      await refused({ token: keep.accessToken }, "DELETE", `/api/me/sessions/${target.id}`, undefined, "NOT_FOUND");
      // The other session is untouched.
      assert.deepEqual((await ok({ token: keep.accessToken }, "GET", "/api/me/sessions")).items.map((s: Json) => s.userAgent), ["Keep/1"]);
      await ok(null, "POST", "/api/auth/refresh", { refreshToken: keep.refreshToken });
      assert.equal(kept.closed(), undefined);
      kept.client.close();
    });

    test("DELETE /api/me/sessions ends every session, the current one too", async () => {
      const user = await createUser(tdb.db, "student");
      const a = await login(user, "A/1");
      const b = await login(user, "B/1");
      const socket = await socketFor(b.accessToken);
      const { revoked } = await ok({ token: a.accessToken }, "DELETE", "/api/me/sessions");
      assert.equal(revoked, 2);
      for (const pair of [a, b]) {
        await refused({ token: pair.accessToken }, "GET", "/api/me/sessions", undefined, "TOKEN_REVOKED");
        await refused(null, "POST", "/api/auth/refresh", { refreshToken: pair.refreshToken }, "TOKEN_REVOKED");
      }
      await eventually(() => socket.closed() !== undefined, "every socket closes");
      const fresh = await login(user, "C/1");
      assert.deepEqual((await ok({ token: fresh.accessToken }, "GET", "/api/me/sessions")).items.map((s: Json) => s.userAgent), ["C/1"]);
    });
  });
}
