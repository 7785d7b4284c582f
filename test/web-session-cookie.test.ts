import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createUser, type TestUser } from "./support/fixtures.ts";
import { openTestDatabase, type TestDatabase } from "./support/databases.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

// The browser's session: with `X-Coachwire-Session: cookie`, login and refresh put the refresh
// token in an HttpOnly, SameSite=Strict cookie scoped to /api/auth instead of the body; refresh
// reads it from there, only with that header and from the server's own origin; logout revokes it
// and clears it. Without the header the JSON body API is unchanged.

const COOKIE = { "content-type": "application/json", "x-coachwire-session": "cookie" };

describe("session cookie (browser mode of /api/auth)", () => {
  let tdb: TestDatabase;
  let server: TestServer;
  let user: TestUser;
  let host: string;

  before(async () => {
    tdb = await openTestDatabase("pglite");
    server = await startTestServer(tdb.db, { COACHWIRE_REFRESH_TOKEN_TTL_S: "3600", COACHWIRE_TRUSTED_CIDRS: "127.0.0.0/8" });
    user = await createUser(tdb.db, "student");
    host = new URL(server.url).host;
  });
  after(async () => {
    await server.close();
    await tdb.drop();
  });

  const post = (path: string, headers: Record<string, string>, body?: unknown) =>
    fetch(`${server.url}${path}`, { method: "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const cookieOf = (res: Response) => res.headers.get("set-cookie") ?? "";
  const tokenIn = (setCookie: string) => /cw_refresh=([^;]*)/.exec(setCookie)![1]!;
  const loginCookie = async (extra: Record<string, string> = {}) => {
    const res = await post("/api/auth/login", { ...COOKIE, ...extra }, { email: user.email, password: user.password });
    assert.equal(res.status, 200);
    return res;
  };

  test("login in cookie mode: the refresh token is in an HttpOnly cookie, not in the body", async () => {
    const res = await loginCookie();
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body["ok"], true);
    assert.equal(typeof body["accessToken"], "string");
    assert.equal(body["refreshToken"], undefined);
    const cookie = cookieOf(res);
    assert.match(cookie, /^cw_refresh=[A-Za-z0-9_-]{20,}; Path=\/api\/auth; Max-Age=3600; HttpOnly; SameSite=Strict$/);
  });

  test("Secure is added when the page was loaded over https", async () => {
    const res = await loginCookie({ origin: `https://${host}` });
    assert.match(cookieOf(res), /; Secure$/);
  });

  test("without the header the JSON API is unchanged: refresh token in the body, no cookie", async () => {
    const res = await post("/api/auth/login", { "content-type": "application/json" }, { email: user.email, password: user.password });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(typeof body["refreshToken"], "string");
    assert.equal(res.headers.get("set-cookie"), null);
  });

  test("refresh with the cookie rotates it; the spent cookie is refused, revokes the family and is cleared", async () => {
    const first = tokenIn(cookieOf(await loginCookie()));
    const res = await post("/api/auth/refresh", { ...COOKIE, cookie: `cw_refresh=${first}` });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(typeof body["accessToken"], "string");
    assert.equal(body["refreshToken"], undefined);
    const second = tokenIn(cookieOf(res));
    assert.notEqual(second, first);

    const reused = await post("/api/auth/refresh", { ...COOKIE, cookie: `cw_refresh=${first}` });
    assert.equal(reused.status, 401);
    assert.equal(((await reused.json()) as { error: { code: string } }).error.code, "TOKEN_REVOKED");
    assert.match(cookieOf(reused), /^cw_refresh=; Path=\/api\/auth; Max-Age=0/);
    const after = await post("/api/auth/refresh", { ...COOKIE, cookie: `cw_refresh=${second}` });
    assert.equal(after.status, 401, "the whole family is revoked");
  });

  test("refresh in cookie mode without a cookie is UNAUTHENTICATED", async () => {
    const res = await post("/api/auth/refresh", COOKIE);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "UNAUTHENTICATED");
  });

  test("a cookie alone does nothing: without the header refresh wants a body (a cross-site form cannot use the cookie)", async () => {
    const token = tokenIn(cookieOf(await loginCookie()));
    const res = await post("/api/auth/refresh", { "content-type": "application/json", cookie: `cw_refresh=${token}` });
    assert.equal(res.status, 400);
    const still = await post("/api/auth/refresh", { ...COOKIE, cookie: `cw_refresh=${token}` });
    assert.equal(still.status, 200, "the cookie was not spent");
  });

  test("another origin is refused (FORBIDDEN) and spends nothing", async () => {
    const token = tokenIn(cookieOf(await loginCookie()));
    for (const origin of ["https://evil.example", "null"]) {
      const res = await post("/api/auth/refresh", { ...COOKIE, cookie: `cw_refresh=${token}`, origin });
      assert.equal(res.status, 403, origin);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "FORBIDDEN");
    }
    const login = await post("/api/auth/login", { ...COOKIE, origin: "https://evil.example" }, { email: user.email, password: user.password });
    assert.equal(login.status, 403);
    const same = await post("/api/auth/refresh", { ...COOKIE, cookie: `cw_refresh=${token}`, origin: `http://${host}` });
    assert.equal(same.status, 200);
  });

  test("logout in cookie mode revokes the access token and the cookie's family, and clears the cookie", async () => {
    const res = await loginCookie();
    const { accessToken } = (await res.json()) as { accessToken: string };
    const token = tokenIn(cookieOf(res));
    const out = await post("/api/auth/logout", { ...COOKIE, cookie: `cw_refresh=${token}`, authorization: `Bearer ${accessToken}` });
    assert.equal(out.status, 200);
    assert.match(cookieOf(out), /^cw_refresh=; Path=\/api\/auth; Max-Age=0/);
    const refresh = await post("/api/auth/refresh", { ...COOKIE, cookie: `cw_refresh=${token}` });
    assert.equal(refresh.status, 401);
    const me = await fetch(`${server.url}/api/me/settings`, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(((await me.json()) as { error: { code: string } }).error.code, "TOKEN_REVOKED");
  });

  test("a failed cookie logout (expired or missing access token) still clears the cookie", async () => {
    const out = await post("/api/auth/logout", { ...COOKIE, cookie: "cw_refresh=whatever-0123456789" });
    assert.equal(out.status, 401);
    assert.match(cookieOf(out), /^cw_refresh=; Path=\/api\/auth; Max-Age=0/);
  });
  test("a password reset, a password change and an invite acceptance in cookie mode set the cookie instead of answering the refresh token", async () => {
    const mailed = async (to: string, path: string) => {
      for (;;) {
        const row = await tdb.db.query<{ link: string }>("SELECT link FROM outbox WHERE to_email = $1 AND link LIKE $2 ORDER BY id DESC LIMIT 1", [to, `%${path}#token=%`]);
        if (row.rows[0]) return row.rows[0].link.split("#token=")[1]!;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const other = await createUser(tdb.db, "student");
    assert.equal((await post("/api/auth/password-reset", { "content-type": "application/json" }, { email: other.email })).status, 202);
    const reset = await post("/api/auth/password-reset/confirm", COOKIE, { token: await mailed(other.email, "/reset-password"), password: "yeni-parola-42" });
    assert.equal(reset.status, 200);
    const resetBody = (await reset.json()) as { accessToken: string; refreshToken?: string };
    assert.equal(resetBody.refreshToken, undefined);
    const afterReset = tokenIn(cookieOf(reset));
    assert.match(cookieOf(reset), /; HttpOnly; SameSite=Strict$/);

    const change = await post("/api/me/password", { ...COOKIE, authorization: `Bearer ${resetBody.accessToken}` }, { currentPassword: "yeni-parola-42", newPassword: "daha-yeni-parola-43" });
    assert.equal(change.status, 200);
    assert.equal(((await change.json()) as { refreshToken?: string }).refreshToken, undefined);
    const afterChange = tokenIn(cookieOf(change));
    assert.equal((await post("/api/auth/refresh", { ...COOKIE, cookie: `cw_refresh=${afterReset}` })).status, 401, "the change ended the reset's session");
    assert.equal((await post("/api/auth/refresh", { ...COOKIE, cookie: `cw_refresh=${afterChange}` })).status, 200);

    const admin = await createUser(tdb.db, "admin");
    const adminLogin = (await (await post("/api/auth/login", { "content-type": "application/json" }, { email: admin.email, password: admin.password })).json()) as { accessToken: string };
    const email = `invited-${Date.now()}@test.coachwire`;
    const invite = await post("/api/admin/invites", { "content-type": "application/json", authorization: `Bearer ${adminLogin.accessToken}` }, { email, role: "coach", displayName: "Coach Mert" });
    assert.equal(invite.status, 201);
    const token = await mailed(email, "/invite");
    const foreign = await post("/api/invites/accept", { ...COOKIE, origin: "https://evil.example" }, { token, password: "mavi-kalem-77" });
    assert.equal(foreign.status, 403, "another origin is refused and the token stays unused");
    const accepted = await post("/api/invites/accept", COOKIE, { token, password: "mavi-kalem-77" });
    assert.equal(accepted.status, 201);
    assert.equal(((await accepted.json()) as { refreshToken?: string }).refreshToken, undefined);
    assert.equal((await post("/api/auth/refresh", { ...COOKIE, cookie: `cw_refresh=${tokenIn(cookieOf(accepted))}` })).status, 200);
  });
});
