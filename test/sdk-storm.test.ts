import assert from "node:assert/strict";
import { createServer, connect as tcpConnect, type Server as TcpServer } from "node:net";
import { describe, test } from "node:test";
import { CoachClient } from "../protocol/client.ts";
import type { WireError } from "../protocol/errors.ts";
import { createUser } from "./support/fixtures.ts";
import { useRoomFixture } from "./support/room-fixture.ts";
import { eventually } from "./support/server.ts";

// Reconnect storms and rolling deploys (issue 13), from the SDK's side, against a real server:
// the SDK schedules its own reconnects (after a transport failure, however it failed, and after a
// refused handshake, honouring the server's retry hint).

const room = useRoomFixture();

/** Resolves with a free TCP port on 127.0.0.1 (nothing listens on it once this resolves). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Listens on `port` and pipes each connection to `targetPort`: the server "comes back" there. */
async function forward(port: number, targetPort: number): Promise<TcpServer> {
  const proxy = createServer((inbound) => {
    const outbound = tcpConnect(targetPort, "127.0.0.1");
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
  return proxy;
}

describe("SDK reconnects on its own schedule", () => {
  test("when the engine cannot even open (nothing listening), it keeps trying and connects once the server is reachable", async () => {
    const { server, tdb } = room;
    const user = await createUser(tdb.db);
    const port = await freePort();
    const client = new CoachClient({ url: `http://127.0.0.1:${port}`, tokens: { accessToken: await server.tokenFor(user) } });
    let failures = 0;
    let closedFor: string | undefined;
    client.socket.on("connect_error", () => failures++);
    client.on("closed", (reason) => (closedFor = reason));
    let proxy: TcpServer | undefined;
    try {
      const connected = client.connect();
      await eventually(() => failures >= 1, "a first attempt failed (connection refused)");
      proxy = await forward(port, server.port);
      await eventually(() => client.socket.connected, "connected once the server is reachable");
      await connected;
      assert.equal(client.socket.connected, true);
      assert.equal(closedFor, undefined, "a transport failure never ends the session");
    } finally {
      client.close();
      proxy?.close();
    }
  });

  test("a handshake refused retryably with a hint is tried again no sooner than retryAfterMs", async () => {
    const { server, tdb } = room;
    const user = await createUser(tdb.db);
    const hint = { retryAfterMs: 1500, retryWindowMs: 500 };
    const arrivals: number[] = [];
    // Refuses this user's first two handshakes the way the server's admission control does
    // (UNAVAILABLE with a hint), after the server's own checks passed.
    server.io.use((socket, next) => {
      if (socket.data.principal?.userId !== user.id) return next();
      arrivals.push(performance.now());
      if (arrivals.length > 2) return next();
      const data: WireError = { code: "UNAVAILABLE", message: "over capacity; come back later", retryable: true, ...hint };
      next(Object.assign(new Error(data.message), { data }));
      setImmediate(() => socket.conn.close());
    });
    const refusals: unknown[] = [];
    const client = new CoachClient({ url: server.url, tokens: { accessToken: await server.tokenFor(user) } });
    client.socket.on("connect_error", (err) => refusals.push((err as Error & { data?: unknown }).data));
    try {
      await client.connect();
      assert.equal(arrivals.length, 3, "two refusals, then connected");
      assert.deepEqual(refusals.map((r) => (r as WireError).code), ["UNAVAILABLE", "UNAVAILABLE"]);
      const gaps = [arrivals[1]! - arrivals[0]!, arrivals[2]! - arrivals[1]!];
      // A lower bound only: the SDK's own backoff would have come back within 1 s the first time.
      for (const gap of gaps) assert.ok(gap >= hint.retryAfterMs, `came back after ${gap.toFixed(0)} ms, not sooner than ${hint.retryAfterMs}`);
    } finally {
      client.close();
    }
  });
});
