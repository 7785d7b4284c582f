import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, afterEach, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import type { CoachClient } from "../protocol/client.ts";
import { freePorts, mintAccessToken, missingClusterServices, startTestStack, type TestStack } from "./support/cluster-stack.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { auditRoom, joinAll, liveFrames, SendStream } from "./support/room-stream.ts";
import { eventually } from "./support/server.ts";

// The deployment shape end to end (issue 3): two HAProxy processes in front of a cluster of two
// server processes on real PostgreSQL and Redis. Faults are real — SIGTERM, kill -9, a Redis
// killed and restarted — and the verdict is an audit: acks against room_events, and what each
// client was handed against the log. Waits are bounded; nothing asserts how long anything took.

const missing = await missingClusterServices();
const skip = missing ?? false;

/** A coach and `n - 1` students, all members of a new room. */
async function room(t: TestStack, n: number): Promise<{ users: TestUser[]; roomId: string }> {
  const users = [await createUser(t.db, "coach")];
  while (users.length < n) users.push(await createUser(t.db));
  return { users, roomId: await createRoom(t.db, users) };
}

/** Connects one client per user through the balancers, one after another (so leastconn spreads them). */
async function throughBalancers(t: TestStack, users: TestUser[]): Promise<CoachClient[]> {
  const clients: CoachClient[] = [];
  for (const user of users) clients.push(await t.client(t.stack.lbUrl, user));
  return clients;
}

/** Counts each client's reconnections (the SDK's "connected" after the first). */
function reconnections(clients: CoachClient[]): number[] {
  const counts = clients.map(() => 0);
  clients.forEach((c, i) => c.on("connected", () => counts[i]!++));
  return counts;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("cluster: 2 HAProxy → 2 server processes on PostgreSQL and Redis", { skip }, () => {
  let t: TestStack;
  before(async () => {
    t = await startTestStack();
  });
  afterEach(() => t?.closeClients());
  after(async () => {
    await t?.stop();
  });

  test("a client on each process and one through HAProxy each receive every event once, in seq order", async () => {
    await t.fullStrength();
    const { users, roomId } = await room(t, 3);
    const [onA, onB] = [await t.client(t.stack.serverUrls[0]!, users[0]!), await t.client(t.stack.serverUrls[1]!, users[1]!)];
    const viaLb = await t.client(t.stack.lbUrl, users[2]!);
    const clients = [onA, onB, viaLb];
    assert.deepEqual([await t.connections(0) >= 1, await t.connections(1) >= 1], [true, true], "a client on each process");
    const live = clients.map((c) => liveFrames(c, roomId));
    const receivers = await joinAll(clients, roomId);

    // Both processes' clients send at once, 30 each, all in flight together.
    const sends = [onA, onB].flatMap((sender, s) => range(30).map((n) => ({ sender, clientId: `x-${s}-${n}` })));
    const acked = new Map(
      await Promise.all(sends.map(async ({ sender, clientId }) => [clientId, (await sender.send(roomId, { text: clientId }, clientId)).seq] as const)),
    );
    const total = sends.length;
    assert.deepEqual([...acked.values()].sort((a, b) => a - b), range(total), "the two processes' sends share one gap-free seq line");
    await eventually(() => clients.every((c) => c.cursor(roomId) === total), "every client has every event");
    for (const [i, r] of receivers.entries()) {
      assert.deepEqual(r.seen.map((e) => e.seq), range(total), `client ${i} was handed every event once, in seq order`);
      // Live broadcasts, not gap fills: each event reached each process's sockets exactly once.
      assert.deepEqual(live[i]!.map((e) => e.seq).sort((a, b) => a - b), range(total), `client ${i} got every event live, once`);
    }
    await auditRoom(t.db, roomId, acked, receivers);
  });

  test("ending a session (DELETE /api/me/sessions/:id) closes its sockets on every process; the user's other session stays", async () => {
    await t.fullStrength();
    const { users: [user], roomId } = await room(t, 2);
    const login = async (agent: string) => {
      const res = await fetch(`${t.stack.lbUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": agent },
        body: JSON.stringify({ email: user!.email, password: user!.password }),
      });
      assert.equal(res.status, 200);
      return (await res.json()) as { accessToken: string };
    };
    const [ended, kept] = [await login("Ended/1"), await login("Kept/1")];
    const endedClients = await Promise.all(t.stack.serverUrls.map((url) => t.client(url, user!, { tokens: { accessToken: ended.accessToken } })));
    const keptClients = await Promise.all(t.stack.serverUrls.map((url) => t.client(url, user!, { tokens: { accessToken: kept.accessToken } })));
    await joinAll([...endedClients, ...keptClients], roomId);
    const reasons: string[] = [];
    for (const c of endedClients) c.on("closed", (reason) => reasons.push(reason));

    const authed = (token: string) => ({ authorization: `Bearer ${token}` });
    const sessions = (await (await fetch(`${t.stack.lbUrl}/api/me/sessions`, { headers: authed(kept.accessToken) })).json()) as { items: { id: string; userAgent: string }[] };
    const target = sessions.items.find((s) => s.userAgent === "Ended/1")!;
    const res = await fetch(`${t.stack.lbUrl}/api/me/sessions/${target.id}`, { method: "DELETE", headers: authed(kept.accessToken) });
    assert.equal(res.status, 200, await res.text());
    await eventually(() => reasons.length === endedClients.length, "the ended session's socket on each process is closed");
    assert.deepEqual(reasons, ["token revoked", "token revoked"]);
    assert.ok(keptClients.every((c) => c.socket.connected), "the other session's sockets stay open");
  });

  test("revoking a token closes that user's sockets on every process; another user stays connected", async () => {
    await t.fullStrength();
    const { users: [user, other], roomId } = await room(t, 2);
    const token = await mintAccessToken(user!);
    const revoked = await Promise.all(t.stack.serverUrls.map((url) => t.client(url, user!, { tokens: { accessToken: token } })));
    const bystanders = await Promise.all(t.stack.serverUrls.map((url) => t.client(url, other!)));
    await joinAll([...revoked, ...bystanders], roomId);
    const reasons: string[] = [];
    for (const c of revoked) c.on("closed", (reason) => reasons.push(reason));

    const res = await fetch(`${t.stack.lbUrl}/api/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, await res.text());
    await eventually(() => reasons.length === revoked.length, "the revoked user's socket on each process is closed");
    assert.deepEqual(reasons, ["token revoked", "token revoked"]);
    assert.ok(revoked.every((c) => !c.socket.connected));

    assert.ok(bystanders.every((c) => c.socket.connected), "the other user's sockets stay open");
    const { seq } = await bystanders[0]!.send(roomId, { text: "still here" });
    await eventually(() => bystanders[1]!.cursor(roomId) === seq, "the other user still hears across processes");
    for (const url of t.stack.serverUrls) {
      await assert.rejects(t.client(url, user!, { tokens: { accessToken: token } }), /TOKEN_REVOKED/, `${url} refuses the revoked token`);
    }
  });

  test("logout on one process ends the whole token family: a sibling access token's socket on the other process closes too", async () => {
    await t.fullStrength();
    const { users: [user], roomId } = await room(t, 1);
    const [onA, onB] = t.stack.serverUrls as [string, string];
    const post = (url: string, path: string, body: unknown, token?: string) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const first = (await (await post(onA, "/api/auth/login", { email: user!.email, password: user!.password })).json()) as {
      accessToken: string;
      refreshToken: string;
    };
    // A refresh on the other process: a sibling access token of the same family.
    const second = (await (await post(onB, "/api/auth/refresh", { refreshToken: first.refreshToken })).json()) as { accessToken: string };
    const clients = [await t.client(onA, user!, { tokens: { accessToken: first.accessToken } }), await t.client(onB, user!, { tokens: { accessToken: second.accessToken } })];
    await joinAll(clients, roomId);
    const reasons: string[] = [];
    for (const c of clients) c.on("closed", (reason) => reasons.push(reason));

    const res = await post(onA, "/api/auth/logout", {}, first.accessToken);
    assert.equal(res.status, 200, await res.text());
    await eventually(() => reasons.length === 2, "both of the family's sockets, one per process, are closed");
    assert.deepEqual(reasons, ["token revoked", "token revoked"]);
    for (const url of t.stack.serverUrls) {
      for (const token of [first.accessToken, second.accessToken]) {
        await assert.rejects(t.client(url, user!, { tokens: { accessToken: token } }), /TOKEN_REVOKED/, `${url} refuses every token of the family`);
      }
    }
  });

  test("presence crosses processes, and two tabs on two processes are one person", async () => {
    await t.fullStrength();
    const { users: [x, y, z, w], roomId } = await room(t, 4);
    const [onA, onB] = t.stack.serverUrls as [string, string];
    const observer = await t.client(onB, y!);
    const updates: Array<{ userId: string; online: boolean }> = [];
    observer.on("presence", (u) => u.roomId === roomId && updates.push(u));
    await observer.join(roomId);
    const heard = (user: TestUser) => updates.filter((u) => u.userId === user.id).map((u) => u.online);

    const tab1 = await t.client(onA, x!);
    assert.ok((await tab1.join(roomId)).online.includes(y!.id), "X on A sees Y (on B) online");
    await eventually(() => heard(x!).length === 1, "Y on B hears X come online on A");
    const tab2 = await t.client(onB, x!);
    assert.deepEqual((await tab2.join(roomId)).online.sort(), [x!.id, y!.id].sort());

    const members = () => t.redis.zrange(`${t.prefix}{presence}:room:${roomId}`, "0", "-1");
    const tab1Entry = `${x!.id}\t${tab1.socket.id}`;
    tab1.close();
    await eventually(async () => !(await members()).includes(tab1Entry), "tab 1's presence entry is gone");
    // Barrier: Z comes online on A; whatever A announced before reaches Y first (one channel, in order).
    const zClient = await t.client(onA, z!);
    await zClient.join(roomId);
    await eventually(() => heard(z!).includes(true), "Y hears Z come online on A");
    assert.deepEqual(heard(x!), [true], "a second tab joining and one tab closing announce nothing");

    tab2.close();
    await eventually(() => heard(x!).length === 2, "Y hears X leave when X's last tab closes");
    // Barriers on both processes: W comes online on B, Z leaves on A.
    await (await t.client(onB, w!)).join(roomId);
    zClient.close();
    await eventually(() => heard(w!).includes(true) && heard(z!).includes(false), "Y hears W arrive on B and Z leave on A");
    assert.deepEqual(heard(x!), [true, false], "X came online once and went offline once");
  });

  test("SIGTERM drain: the process's clients are told to move, resume elsewhere, and nothing is lost or repeated", async () => {
    await t.fullStrength();
    const { users, roomId } = await room(t, 6);
    const clients = await throughBalancers(t, users);
    const onDrained = await t.connections(1);
    assert.equal((await t.connections(0)) + onDrained, clients.length);
    assert.ok(onDrained >= 1, "the balancers put clients on the process that will drain");
    const notices = clients.map((c) => {
      const got: unknown[] = [];
      c.socket.on("session:closing", (n) => got.push(n));
      return got;
    });
    const reconnected = reconnections(clients);
    const receivers = await joinAll(clients, roomId);
    const stream = new SendStream(clients.slice(0, 4), roomId, { tag: "drain", max: 500, pauseMs: 20 });
    await stream.advance(20, "sends before the drain");

    const pid = (await t.pid(1))!;
    process.kill(pid, "SIGTERM");
    const moved = () => notices.flatMap((n, i) => (n.length > 0 ? [i] : []));
    await eventually(() => moved().length === onDrained, "every client of the draining process is told to move", 20_000);
    for (const n of notices.flat()) assert.deepEqual(n, { reason: "server draining", reconnect: true, retryAfterMs: 0, retryWindowMs: 500 });
    await eventually(() => moved().every((i) => reconnected[i]! >= 1 && clients[i]!.socket.connected), "the moved clients reconnect through HAProxy", 20_000);
    await stream.advance(20, "sends after the move");
    await stream.stop();
    await auditRoom(t.db, roomId, stream.acked, receivers);

    await eventually(async () => ![undefined, pid].includes(await t.pid(1)), "the cluster primary replaces the drained process", 30_000);
    await eventually(async () => (await t.connections(0)) + (await t.connections(1)) === clients.length, "each client holds one connection");
  });

  test("kill -9 of a process mid-stream: its clients resume through HAProxy, nothing lost or repeated, its presence expires", async () => {
    await t.fullStrength();
    const { users, roomId } = await room(t, 7);
    const clients = await throughBalancers(t, users.slice(0, 6));
    const onKilled = await t.connections(0);
    assert.equal(onKilled + (await t.connections(1)), clients.length);
    assert.ok(onKilled >= 1 && onKilled < clients.length, "the balancers put clients on both processes");
    const dropped = clients.map(() => 0);
    clients.forEach((c, i) => c.on("disconnected", () => dropped[i]!++));
    const reconnected = reconnections(clients);
    const receivers = await joinAll(clients, roomId);
    // One more user, only on the process that dies, who will not come back.
    const gone = users[6]!;
    const heardOfGone = clients.map((c) => {
      const heard: boolean[] = [];
      c.on("presence", (u) => u.roomId === roomId && u.userId === gone.id && heard.push(u.online));
      return heard;
    });
    const goneClient = await t.client(t.stack.serverUrls[0]!, gone);
    let goneDropped = false;
    goneClient.on("disconnected", () => (goneDropped = true));
    await goneClient.join(roomId);
    await eventually(() => heardOfGone.every((h) => h.length === 1), "the others hear the user on the doomed process come online");
    const stream = new SendStream(clients.slice(0, 4), roomId, { tag: "kill", max: 500, pauseMs: 20 });
    await stream.advance(20, "sends before the kill");

    const pid = (await t.pid(0))!;
    process.kill(pid, "SIGKILL");
    await eventually(() => goneDropped, "the user on the killed process loses its connection");
    goneClient.close(); // after the drop, so no goodbye can reach the dying process
    const moved = () => dropped.flatMap((n, i) => (n > 0 ? [i] : []));
    await eventually(() => moved().length === onKilled, "every client of the killed process sees its connection drop");
    await eventually(() => clients.every((c, i) => c.socket.connected && reconnected[i] === dropped[i]), "every dropped client reconnects", 20_000);
    await stream.advance(20, "sends after the kill");
    await stream.stop();
    assert.equal(moved().length, onKilled, "only the killed process's clients were dropped");
    await auditRoom(t.db, roomId, stream.acked, receivers);

    await eventually(async () => ![undefined, pid].includes(await t.pid(0)), "the cluster primary restarts the killed process", 30_000);
    // The killed process's entries are no longer heartbeated: a sweep removes them after the TTL,
    // and announces the user who had no other connection as gone.
    const live = clients.map((c, i) => `${users[i]!.id}\t${c.socket.id}`).sort();
    await eventually(
      async () => JSON.stringify((await t.redis.zrange(`${t.prefix}{presence}:room:${roomId}`, "0", "-1")).sort()) === JSON.stringify(live),
      "the room's presence holds exactly the live connections",
      15_000,
    );
    // Presence notices are volatile, so only the clients that stayed connected are sure to hear it.
    const stayed = heardOfGone.filter((_, i) => dropped[i] === 0);
    await eventually(() => stayed.every((h) => h.length === 2), "the clients of the survivor hear the user of the killed process go offline");
    for (const h of stayed) assert.deepEqual(h, [true, false]);
  });
});

describe("cluster: Redis killed and restarted mid-stream", { skip }, () => {
  let port: number;
  let redisServer: ChildProcess | undefined;
  let t: TestStack | undefined;
  const url = () => `redis://127.0.0.1:${port}`;

  async function startRedis(): Promise<void> {
    redisServer = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    const probe = new Redis(url(), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {});
    await eventually(() => probe.connect().then(() => probe.ping().then(() => true), () => false), "the private redis-server answers");
    probe.disconnect();
  }
  async function killRedis(): Promise<void> {
    const child = redisServer;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => (child.once("exit", resolve), child.kill("SIGKILL")));
  }

  before(async () => {
    port = await freePorts(1);
    await startRedis();
    t = await startTestStack({ redisUrl: url() });
  });
  after(async () => {
    await t?.stop();
    await killRedis();
  });

  test("no acked event is lost or repeated, a client reconnecting meanwhile is refused only as retryable, and the servers reconnect to Redis by themselves", async () => {
    const s = t!;
    const { users, roomId } = await room(s, 4);
    const [onA, onB] = s.stack.serverUrls as [string, string];
    const clients = await Promise.all([onA, onB, onA, onB].map((u, i) => s.client(u, users[i]!)));
    const resyncs = clients.map(() => 0);
    clients.forEach((c, i) => c.socket.on("session:resync", () => resyncs[i]!++));
    const liveOnB = liveFrames(clients[1]!, roomId);
    const receivers = await joinAll(clients, roomId);
    const during = new SendStream(clients, roomId, { tag: "outage", max: 500, pauseMs: 20 });
    await during.advance(20, "sends before Redis goes away");

    await killRedis();
    // Rate limits fail open: chat goes on while Redis is away. The stream ends before Redis is
    // back, so what another process's clients missed is a trailing gap no later event reveals.
    await during.advance(4, "sends acked while Redis is down");
    await during.stop();
    // A connection dropping now with a token this process has not verified before must be refused
    // as retryable (the denylist cannot be read), not for good. (A token it has verified before
    // is answered from its memory, until it expires or is revoked.)
    const refusals: string[] = [];
    const dropped = clients[3]!;
    dropped.setTokens({ accessToken: await mintAccessToken(users[3]!) });
    dropped.socket.on("connect_error", (err: Error & { data?: { code?: string } }) => refusals.push(String(err.data?.code)));
    dropped.on("closed", (reason) => refusals.push(`closed: ${reason}`));
    dropped.socket.io.engine.close();
    await eventually(() => refusals.length > 0, "the dropped client's reconnection is answered while Redis is down", 20_000);
    assert.deepEqual(refusals, ["UNAVAILABLE"]);
    await startRedis();
    const pids = [await s.pid(0), await s.pid(1)];
    await eventually(
      async () => {
        const list = String(await s.redis.client("LIST"));
        return pids.every((pid) => {
          const sub = list.split("\n").find((l) => l.includes(`name=coachwire-subscriber-${pid} `));
          return sub !== undefined && /\bp?sub=[1-9]/.test(sub) && list.includes(`name=coachwire-commands-${pid} `);
        });
      },
      "both server processes are connected and subscribed to the restarted Redis",
      20_000,
    );
    await eventually(() => dropped.socket.connected, "the dropped client reconnects once Redis is back");
    assert.ok(refusals.every((r) => r === "UNAVAILABLE"), `refused only as retryable: ${refusals.join(", ")}`);
    await eventually(() => resyncs.every((n, i) => n >= 1 || clients[i] === dropped), "every client still connected is asked to resync");
    await auditRoom(s.db, roomId, during.acked, receivers);

    const recovered = new SendStream(clients, roomId, { tag: "recovered", max: 10, pauseMs: 20 });
    await recovered.finished();
    await auditRoom(s.db, roomId, new Map([...during.acked, ...recovered.acked]), receivers);
    // Nothing after this can reveal a gap, so only a live broadcast through Redis delivers it.
    const final = await clients[0]!.send(roomId, { text: "after recovery" }, "redis-final");
    await eventually(() => liveOnB.some((e) => e.seq === final.seq), "an event sent on A after recovery reaches B live");
    await eventually(() => clients.every((c) => c.cursor(roomId) === final.seq), "every client has the final event");
  });
});
