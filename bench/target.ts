import { randomBytes } from "node:crypto";
import type { Db } from "../db/db.ts";
import { openDb } from "../db/open.ts";
import { storedJwtSecret } from "../server/auth/jwt-secret.ts";
import { freePortRun, startStack, type Stack } from "../server/stack.ts";
import { childPids, parentPid, pidsNamed, type ProcessGroup } from "./proc-stats.ts";

/** What the bench drives: where clients connect, what to measure, and how to clean up. */
export interface Target {
  label: "coachwire" | "reference";
  url: string;
  serverUrls: string[];
  /** Present for coachwire: seeding and the audit read PostgreSQL. */
  db: Db | undefined;
  /** The reminder offsets its servers plan with (COACHWIRE_REMINDER_OFFSETS_MIN, in ms): what the notice audit expects. */
  reminderOffsetsMs: readonly number[];
  redisPrefix: string;
  /** The secret its servers sign with: the bench mints its users' tokens with it. */
  jwtSecret: string;
  /** Processes whose CPU is measured, by role. */
  processGroups(): Promise<ProcessGroup[]>;
  /**
   * A stack the bench started: sends SIGTERM to one of its server processes (it drains; the
   * cluster primary starts a new one on its port). Absent for a stack that was already running.
   */
  terminateServer?(pid: number): void;
  stop(): Promise<void>;
}

export interface TargetOptions {
  databaseUrl: string;
  redisUrl: string;
  workers: number;
  balancers: number;
  parser: "msgpack" | "json";
  runId: string;
  /** Write a V8 CPU profile of every server process here (written when it exits). */
  profileDir?: string;
  /** COACHWIRE_REMINDER_OFFSETS_MIN for the servers and the job worker; absent: the servers' default. */
  reminderOffsetsMin?: readonly number[];
}

/** coachwire's own default of COACHWIRE_REMINDER_OFFSETS_MIN (server/config.ts). */
export const DEFAULT_REMINDER_OFFSETS_MIN: readonly number[] = [1440, 60];
const offsetsMs = (minutes: readonly number[]) => [...new Set(minutes.filter((m) => m > 0).map((m) => m * 60_000))];

async function serverPids(serverUrls: string[]): Promise<number[]> {
  const pids = await Promise.all(
    serverUrls.map((u) => fetch(`${u}/healthz`).then((r) => r.json() as Promise<{ pid: number }>).then((b) => b.pid, () => 0)),
  );
  return pids.filter((p) => p > 0);
}

/** Starts coachwire (or the reference) as `npm run stack` would, on free ports, in its own schema and Redis prefix. */
export async function startTarget(label: Target["label"], o: TargetOptions): Promise<Target> {
  const schema = `bench_${o.runId}`;
  const redisPrefix = `bench:${o.runId}:${label}:`;
  const base = await freePortRun(1 + o.balancers + o.workers);
  const jwtSecret = randomBytes(32).toString("base64url");
  const stack: Stack = await startStack({
    stdio: "ignore",
    workers: o.workers,
    balancers: o.balancers,
    lbPort: base,
    statsPortBase: base + 1,
    portBase: base + 1 + o.balancers,
    databaseUrl: o.databaseUrl,
    redisUrl: o.redisUrl,
    clusterEntry: label === "coachwire" ? "server/cluster.ts" : "bench/reference/cluster.ts",
    serverEnv: {
      COACHWIRE_DB_SCHEMA: schema,
      COACHWIRE_REDIS_PREFIX: redisPrefix,
      COACHWIRE_PARSER: o.parser,
      COACHWIRE_LOG_LEVEL: "warn",
      COACHWIRE_DEMO_SEED: "false",
      COACHWIRE_TRUSTED_CIDRS: "127.0.0.0/8,::1/128",
      COACHWIRE_JWT_SECRET: jwtSecret,
      // The bench mints tokens for the whole run; keep sockets from expiring mid-run.
      COACHWIRE_ACCESS_TOKEN_TTL_S: "86400",
      // startStack gives serverEnv to the job worker too: it runs what the servers planned.
      ...(o.reminderOffsetsMin ? { COACHWIRE_REMINDER_OFFSETS_MIN: o.reminderOffsetsMin.join(",") } : {}),
    },
    nodeArgs: o.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${o.profileDir}`] : [],
  });
  const db = label === "coachwire" ? await openDb({ url: o.databaseUrl, schema, poolSize: 4 }) : undefined;
  return {
    label,
    url: stack.lbUrl,
    serverUrls: stack.serverUrls,
    db,
    reminderOffsetsMs: label === "coachwire" ? offsetsMs(o.reminderOffsetsMin ?? DEFAULT_REMINDER_OFFSETS_MIN) : [],
    redisPrefix,
    jwtSecret,
    async processGroups() {
      // The primary's children: after a server process is restarted, its successor is measured too.
      const cluster = stack.cluster.pid!;
      return [
        { name: "server", pids: await serverPids(stack.serverUrls), refresh: () => childPids(cluster) },
        { name: "haproxy", pids: stack.balancers.map((b) => b.pid!).filter(Boolean) },
        { name: "redis", pids: pidsNamed("redis-server"), refresh: () => pidsNamed("redis-server") },
        { name: "postgres", pids: pidsNamed("postgres"), refresh: () => pidsNamed("postgres") },
      ];
    },
    terminateServer(pid) {
      // Only a child of this stack's cluster primary: never some other process that took the pid.
      if (parentPid(pid) !== stack.cluster.pid) throw new Error(`pid ${pid} is not a server process of the bench's stack`);
      process.kill(pid, "SIGTERM");
    },
    async stop() {
      await stack.stop();
      if (db) {
        await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await db.close();
      }
    },
  };
}

/**
 * A target that is already running (`--target URL`): the bench seeds into and audits `schema`
 * of DATABASE_URL, measures the processes behind `serverUrls` (their /healthz pids), and on
 * stop deletes only what it seeded (users and rooms whose ids start with `idPrefix`).
 * `reminderOffsetsMin` is what its servers run with (the notice audit expects those reminders).
 */
export async function attachTarget(
  url: string,
  o: {
    databaseUrl: string;
    schema: string;
    serverUrls: string[];
    idPrefix: string;
    reminderOffsetsMin: readonly number[];
    /** COACHWIRE_JWT_SECRET of the target; absent: the secret it generated into its database. */
    jwtSecret: string | undefined;
  },
): Promise<Target> {
  const db = await openDb({ url: o.databaseUrl, schema: o.schema, poolSize: 4 });
  const jwtSecret = o.jwtSecret ?? (await storedJwtSecret(db));
  if (!jwtSecret) {
    await db.close();
    throw new Error(`the target's schema ${o.schema} has no generated JWT secret: set COACHWIRE_JWT_SECRET to the one it runs with`);
  }
  return {
    label: "coachwire",
    url,
    serverUrls: o.serverUrls,
    db,
    reminderOffsetsMs: offsetsMs(o.reminderOffsetsMin),
    redisPrefix: `bench-target-unused:${o.idPrefix}:`,
    jwtSecret,
    async processGroups() {
      return [
        { name: "server", pids: await serverPids(o.serverUrls) },
        { name: "haproxy", pids: pidsNamed("haproxy"), refresh: () => pidsNamed("haproxy") },
        { name: "redis", pids: pidsNamed("redis-server"), refresh: () => pidsNamed("redis-server") },
        { name: "postgres", pids: pidsNamed("postgres"), refresh: () => pidsNamed("postgres") },
      ];
    },
    async stop() {
      const like = `${o.idPrefix.replace(/[\\%_]/g, "\\$&")}%`;
      await db.query("DELETE FROM rooms WHERE id LIKE $1", [like]);
      await db.query("DELETE FROM users WHERE id LIKE $1", [like]);
      await db.close();
    },
  };
}

/** A short id for one bench run (schema and key names). */
export const newRunId = () => `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
