import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { SignJWT } from "jose";
import pg from "pg";
import type { Db } from "../../db/db.ts";
import { openDb } from "../../db/open.ts";
import { CoachClient, type CoachClientOptions } from "../../protocol/client.ts";
import { freePortRun, haproxyInstalled, startStack, type Stack } from "../../server/stack.ts";
import { PG_URL, postgresAvailable, REQUIRE_SERVICES } from "./databases.ts";
import type { TestUser } from "./fixtures.ts";
import { deleteKeys, REDIS_URL, redisAvailable } from "./redis-keyspace.ts";
import { eventually } from "./server.ts";

/**
 * The deployment shape under test: `startStack` (HAProxy ×2 → cluster primary → 2 server
 * processes, plus one job worker) on real PostgreSQL and Redis, in its own schema, key prefix
 * (BullMQ's keys included) and free ports, with the SDK clients a test opens and the ways a
 * test looks inside each process from outside (/healthz pid, /metrics connections, HAProxy's
 * view of its servers).
 */

/** Why the cluster suites cannot run here, or undefined when they can (throws under TEST_REQUIRE_SERVICES=1). */
export async function missingClusterServices(): Promise<string | undefined> {
  if (!haproxyInstalled()) {
    const reason = "HAProxy is not installed (apt-get install -y haproxy)";
    if (REQUIRE_SERVICES) throw new Error(`HAProxy is required (TEST_REQUIRE_SERVICES=1): ${reason}`);
    return reason;
  }
  if (!(await postgresAvailable())) return `PostgreSQL is not reachable at ${PG_URL}`;
  if (!(await redisAvailable())) return `Redis is not reachable at ${REDIS_URL}`;
  return undefined;
}

/** Free ports for a test stack (the same search the bench uses). */
export const freePorts = freePortRun;

/** The JWT secret test stacks run with (random per test process), so tests can mint tokens. */
export const STACK_JWT_SECRET = randomBytes(32).toString("base64url");
const jwtKey = new TextEncoder().encode(STACK_JWT_SECRET);

/** An access token as AuthService.signAccessToken makes it for a token minted outside login (no family). */
export async function mintAccessToken(user: TestUser, ttlS = 900): Promise<string> {
  return new SignJWT({ role: user.role, inst: user.institutionId, ims: Date.now() })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer("coachwire")
    .setSubject(user.id)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlS)
    .sign(jwtKey);
}

export interface TestStack {
  stack: Stack;
  /** A handle on the stack's schema, for fixtures and the audit. */
  db: Db;
  /** The servers' Redis key prefix. */
  prefix: string;
  /** The servers' Redis, for looking at shared state. */
  redis: Redis;
  /** An SDK client for `user`, connected to `url` (the balancer or one server process). */
  client(url: string, user: TestUser, options?: Partial<CoachClientOptions>): Promise<CoachClient>;
  /** The pid answering /healthz on server process `i` (undefined while none answers). */
  pid(i: number): Promise<number | undefined>;
  /** `coachwire_connections` of server process `i`. */
  connections(i: number): Promise<number>;
  /** Every server process ready, every balancer routing to all of them, and no connection left open. */
  fullStrength(): Promise<void>;
  /** Closes every client opened so far. */
  closeClients(): void;
  /** Closes the clients, stops the stack, drops the schema and deletes the keys. */
  stop(): Promise<void>;
}

/** Starts a stack on its own schema, Redis prefix and ports; `env` adds settings for its servers and job workers. */
export async function startTestStack(options: { redisUrl?: string; env?: Record<string, string> } = {}): Promise<TestStack> {
  const schema = `t_${process.pid}_${randomBytes(4).toString("hex")}`;
  const prefix = `test:${randomBytes(5).toString("hex")}:`;
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on("error", () => {}); // a test may restart this Redis; calls report their own failures
  // What the servers leave behind: their schema (created by the cluster primary) and keys.
  const cleanUp = async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
    await deleteKeys(redis, prefix).catch(() => {});
    redis.disconnect();
  };
  const stack = await startStack({
    // TEST_STACK_OUTPUT=inherit shows the servers' and balancers' output when debugging.
    stdio: process.env["TEST_STACK_OUTPUT"] === "inherit" ? "inherit" : "ignore",
    workers: 2,
    balancers: 2,
    lbPort: await freePorts(1),
    statsPortBase: await freePorts(2),
    portBase: await freePorts(2),
    databaseUrl: PG_URL,
    redisUrl,
    serverEnv: {
      COACHWIRE_DB_SCHEMA: schema,
      COACHWIRE_REDIS_PREFIX: prefix,
      COACHWIRE_PRESENCE_TTL_S: "2",
      COACHWIRE_LOG_LEVEL: "warn",
      COACHWIRE_SEND_RATE_PER_S: "1000",
      COACHWIRE_SEND_BURST: "1000",
      COACHWIRE_DEMO_SEED: "false",
      COACHWIRE_DRAIN_MS: "5000",
      // The tests read coachwire_connections as a live probe: no render cache between reads.
      COACHWIRE_METRICS_CACHE_MS: "0",
      COACHWIRE_JWT_SECRET: STACK_JWT_SECRET,
      ...options.env,
    },
  }).catch(async (err: unknown) => {
    await cleanUp();
    throw err;
  });
  const db = await openDb({ url: PG_URL, schema, poolSize: 4 });
  const clients: CoachClient[] = [];

  const get = async (i: number, path: string) => fetch(`${stack.serverUrls[i]}${path}`, { signal: AbortSignal.timeout(2000) });
  const connections = async (i: number) => {
    const text = await (await get(i, "/metrics")).text();
    const match = /^coachwire_connections (\d+)/m.exec(text);
    if (!match) throw new Error(`no coachwire_connections in ${stack.serverUrls[i]}/metrics`);
    return Number(match[1]);
  };
  const balancersRouteToAll = async () => {
    for (const statsUrl of stack.statsUrls) {
      const csv = await (await fetch(`${statsUrl};csv`)).text();
      const [header, ...rows] = csv.trim().split("\n").map((line) => line.replace(/^# /, "").split(","));
      const col = (name: string) => header!.indexOf(name);
      const up = rows.filter((r) => r[col("pxname")] === "app" && /^app\d+$/.test(r[col("svname")]!) && r[col("status")] === "UP");
      if (up.length !== stack.serverUrls.length) return false;
    }
    return true;
  };

  return {
    stack,
    db,
    prefix,
    redis,
    async client(url, user, clientOptions = {}) {
      const client = new CoachClient({ url, tokens: { accessToken: await mintAccessToken(user) }, ackTimeoutMs: 2000, ...clientOptions });
      clients.push(client);
      await client.connect();
      return client;
    },
    async pid(i) {
      try {
        return ((await (await get(i, "/healthz")).json()) as { pid: number }).pid;
      } catch {
        return undefined;
      }
    },
    connections,
    async fullStrength() {
      const ready = (i: number) => get(i, "/readyz").then((r) => r.ok, () => false);
      await eventually(
        async () => (await Promise.all(stack.serverUrls.map((_, i) => ready(i)))).every(Boolean) && (await balancersRouteToAll()),
        "every server process ready and in every balancer's rotation",
        30_000,
      );
      const open = async () => (await Promise.all(stack.serverUrls.map((_, i) => connections(i)))).reduce((a, b) => a + b, 0);
      await eventually(async () => (await open()) === 0, "no connection left open from before");
    },
    closeClients() {
      for (const c of clients.splice(0)) c.close();
    },
    async stop() {
      for (const c of clients.splice(0)) c.close();
      await stack.stop();
      await db.close();
      await cleanUp();
    },
  };
}
