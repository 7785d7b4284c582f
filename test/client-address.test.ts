import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { DEFAULT_TRUSTED_PROXIES } from "../server/config.ts";
import { clientAddress } from "../server/http/client-address.ts";
import { openPgliteMemory, type TestDatabase } from "./support/databases.ts";
import { createUser, type TestUser } from "./support/fixtures.ts";
import { connectRaw, startTestServer, type TestServer } from "./support/server.ts";

// Whose address a request is (the key of the per-IP limits, the test of COACHWIRE_TRUSTED_CIDRS)
// with COACHWIRE_TRUST_PROXY on: the right-most X-Forwarded-For address that is not one of the
// trusted proxies, so what a client writes into the header itself never counts.

const defaults = { trustProxy: true, trustedProxies: DEFAULT_TRUSTED_PROXIES.split(",") };

/** [what, options, peer, X-Forwarded-For, expected client address]. */
const CASES: Array<[string, typeof defaults, string, string | undefined, string]> = [
  ["proxies not trusted: the peer, whatever the header says", { ...defaults, trustProxy: false }, "127.0.0.1", "198.51.100.1", "127.0.0.1"],
  ["a trusted peer without the header: the peer", defaults, "127.0.0.1", undefined, "127.0.0.1"],
  ["one trusted proxy: the address it appended", defaults, "127.0.0.1", "198.51.100.1", "198.51.100.1"],
  ["a client-written entry left of the appended one is ignored", defaults, "127.0.0.1", "203.0.113.9, 198.51.100.1", "198.51.100.1"],
  ["a client claiming a trusted range on the left is ignored", defaults, "127.0.0.1", "10.1.2.3,198.51.100.1", "198.51.100.1"],
  ["a chain of trusted proxies is walked to the first untrusted hop", defaults, "10.0.0.2", "203.0.113.9, 198.51.100.1, 192.168.1.4, 10.0.0.3", "198.51.100.1"],
  ["a peer that is not a trusted proxy: its header is not believed", defaults, "198.51.100.50", "203.0.113.9", "198.51.100.50"],
  ["only the configured proxies are trusted", { ...defaults, trustedProxies: ["10.0.0.0/8"] }, "127.0.0.1", "198.51.100.1", "127.0.0.1"],
  ["every hop trusted: the left-most", defaults, "127.0.0.1", "10.0.0.9, 10.0.0.8", "10.0.0.9"],
  ["a hop that is not an address ends the walk at the trusted hop right of it", defaults, "127.0.0.1", "198.51.100.1, nonsense, 10.0.0.8", "10.0.0.8"],
  ["an IPv4-mapped IPv6 peer counts as its IPv4 address", defaults, "::ffff:127.0.0.1", "198.51.100.1", "198.51.100.1"],
  ["IPv6 hops, bracketed and with ports, are read", defaults, "::1", "[2001:db8::1]:4711, [fd00::1]", "2001:db8::1"],
  ["an IPv4 hop with a port is read without it", defaults, "127.0.0.1", "198.51.100.1:5555", "198.51.100.1"],
  ["empty entries from stray commas are not addresses", defaults, "127.0.0.1", "198.51.100.1,,", "127.0.0.1"],
];

describe("clientAddress: the right-most X-Forwarded-For address not in the trusted proxies", () => {
  for (const [what, options, peer, header, expected] of CASES) {
    test(what, () => {
      assert.equal(clientAddress(options)(peer, header), expected);
    });
  }
});

/** A login attempt from 127.0.0.1 with these X-Forwarded-For header lines (several lines: repeated headers). */
function loginFrom(url: string, user: TestUser, forwardedFor: string | string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ email: user.email, password: "wrong-password" });
    const req = request(`${url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

for (const transport of ["uws", "node"] as const) {
  describe(`X-Forwarded-For behind trusted proxies (${transport} transport)`, () => {
    let tdb: TestDatabase;
    let server: TestServer;
    let onlyTenSlash8: TestServer;
    let user: TestUser;
    const env = {
      COACHWIRE_TRANSPORT: transport,
      COACHWIRE_TRUST_PROXY: "true",
      COACHWIRE_LOGIN_RATE_PER_MIN: "2",
      // Exempt from rate limits: a range a client would like to claim.
      COACHWIRE_TRUSTED_CIDRS: "10.0.0.0/8",
    };

    before(async () => {
      tdb = await openPgliteMemory();
      server = await startTestServer(tdb.db, env);
      onlyTenSlash8 = await startTestServer(tdb.db, { ...env, COACHWIRE_TRUSTED_PROXIES: "10.0.0.0/8" });
      user = await createUser(tdb.db);
    });
    after(async () => {
      await server.close();
      await onlyTenSlash8.close();
      await tdb.drop();
    });

    /** The status of each of `n` attempts with these headers. */
    const attempts = async (s: TestServer, headers: Array<string | string[]>) => {
      const statuses: number[] = [];
      for (const h of headers) statuses.push(await loginFrom(s.url, user, h));
      return statuses;
    };

    test("a client cannot pick its own rate-limit key by writing the left of the header", async () => {
      assert.deepEqual(await attempts(server, ["1.1.1.1, 198.51.100.1", "2.2.2.2, 198.51.100.1", "3.3.3.3, 198.51.100.1"]), [401, 401, 429]);
    });

    test("a client cannot claim a trusted (rate-limit exempt) range by writing it into the header", async () => {
      assert.deepEqual(await attempts(server, ["10.9.9.9, 198.51.100.2", "10.9.9.9, 198.51.100.2", "10.9.9.9, 198.51.100.2"]), [401, 401, 429]);
    });

    test("repeated X-Forwarded-For header lines are read as one list, in order", async () => {
      const lines = ["10.9.9.9", "198.51.100.3"];
      assert.deepEqual(await attempts(server, [lines, lines, "198.51.100.3"]), [401, 401, 429]);
    });

    test("a hop appended by a trusted proxy (10.0.0.7) is skipped; the client behind it is the key", async () => {
      assert.deepEqual(await attempts(server, ["198.51.100.4, 10.0.0.7", "198.51.100.4, 10.0.0.8", "198.51.100.4"]), [401, 401, 429]);
    });

    test("when the peer is not one of COACHWIRE_TRUSTED_PROXIES the header is ignored", async () => {
      assert.deepEqual(await attempts(onlyTenSlash8, ["198.51.100.5", "198.51.100.6", "198.51.100.7"]), [401, 401, 429]);
    });

    test("the socket handshake takes the same address", async () => {
      const socket = server.rawSocket(
        { token: await server.tokenFor(user) },
        { extraHeaders: { "x-forwarded-for": ["10.9.9.9, 203.0.113.5", "198.51.100.8"] } },
      );
      await connectRaw(socket);
      assert.equal(server.io.of("/").sockets.get(socket.id!)?.data.ip, "198.51.100.8");
      socket.disconnect();
    });
  });
}
