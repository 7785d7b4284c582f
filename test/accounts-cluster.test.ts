import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { restClient, type Json } from "./support/accounts-api.ts";
import { within } from "./support/bad-input-table.ts";
import { openPostgres, PG_URL, postgresAvailable, type TestDatabase } from "./support/databases.ts";
import { createRoom, createUser } from "./support/fixtures.ts";
import { deleteKeys, freshPrefix, REDIS_URL, redisAvailable } from "./support/redis-keyspace.ts";
import { connectRaw, eventually, startTestServer, type TestServer } from "./support/server.ts";

/**
 * Ending a user's sessions reaches every process: two server processes on one PostgreSQL and
 * one Redis (node transport, as coaching-cluster.test.ts explains). A deactivation or a password
 * change through one process closes the user's socket on the other at once, and the other
 * refuses the old access token.
 */

async function missingServices(): Promise<string | undefined> {
  if (!(await postgresAvailable())) return `PostgreSQL is not reachable at ${PG_URL}`;
  if (!(await redisAvailable())) return `Redis is not reachable at ${REDIS_URL}`;
  return undefined;
}
const skip = (await missingServices()) ?? false;

describe("ending sessions across two server processes (PostgreSQL + Redis)", { skip }, () => {
  let tdb: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let prefix: string;
  const onA = restClient(() => a.url);
  const onB = restClient(() => b.url);

  before(async () => {
    tdb = await openPostgres();
    prefix = freshPrefix();
    const env = { REDIS_URL, COACHWIRE_REDIS_PREFIX: prefix, COACHWIRE_TRANSPORT: "node", COACHWIRE_LOGIN_RATE_PER_MIN: "10000", COACHWIRE_HTTP_RATE_PER_MIN: "100000" };
    a = await startTestServer(tdb.db, env);
    b = await startTestServer(await tdb.openAnother(), env);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await tdb?.drop();
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await deleteKeys(redis, prefix).finally(() => redis.quit());
  });

  test("a deactivation through A closes the user's socket on B and B refuses their token; a bystander stays", async () => {
    const admin = await createUser(tdb.db, "admin");
    const [student, bystander] = [await createUser(tdb.db), await createUser(tdb.db)];
    await createRoom(tdb.db, [await createUser(tdb.db, "coach"), student, bystander]);
    const session = await onB.login(student.email, student.password);
    const socket = b.rawSocket({ token: session.accessToken });
    const other = b.rawSocket({ token: await b.tokenFor(bystander) });
    await Promise.all([connectRaw(socket), connectRaw(other)]);
    const closing = new Promise<Json>((resolve) => socket.once("session:closing", resolve));
    const adminToken = (await onA.login(admin.email, admin.password)).accessToken;
    await onA.ok(adminToken, "POST", `/api/admin/users/${student.id}/deactivate`);
    assert.deepEqual(await within(closing, "session:closing on B"), { reason: "account deactivated", reconnect: false });
    await eventually(() => !socket.connected, "B closed the socket");
    await onB.refused(session.accessToken, "GET", "/api/me", undefined, "TOKEN_REVOKED");
    await onB.refused(null, "POST", "/api/auth/refresh", { refreshToken: session.refreshToken }, "TOKEN_REVOKED");
    assert.equal(other.connected, true, "the bystander's socket stays");
  });

  test("a password change through A closes the user's other session on B", async () => {
    const user = await createUser(tdb.db, "coach");
    const here = await onA.login(user.email, user.password);
    const there = await onB.login(user.email, user.password);
    const socket = b.rawSocket({ token: there.accessToken });
    await connectRaw(socket);
    const fresh = await onA.ok(here.accessToken, "POST", "/api/me/password", { currentPassword: user.password, newPassword: "baska-sifre-77" });
    await eventually(() => !socket.connected, "B closed the other session's socket");
    await onB.refused(there.accessToken, "GET", "/api/me", undefined, "TOKEN_REVOKED");
    await onB.ok(fresh.accessToken, "GET", "/api/me");
  });
});
