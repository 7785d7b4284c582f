import { availableParallelism } from "node:os";
import { z } from "zod";
import { parseCidrList } from "./ratelimit/trusted-sources.ts";

/**
 * The one place the environment is read. `loadConfig` validates every variable, fills defaults
 * and returns a frozen object that is passed down; nothing else reads `process.env`.
 */

/**
 * The JWT secret earlier versions fell back to. It is public (it was in the source), so it is
 * refused everywhere; without COACHWIRE_JWT_SECRET each installation generates its own.
 */
export const RETIRED_JWT_SECRET = "coachwire-dev-secret-change-me-0123456789";

/** Who may write X-Forwarded-For when COACHWIRE_TRUST_PROXY is on, unless COACHWIRE_TRUSTED_PROXIES says otherwise: loopback and private ranges. */
export const DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7";

const cidrList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => parseCidrList(v) !== undefined, "must be a comma-separated list of CIDR ranges, e.g. 127.0.0.0/8,::1/128");

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/** Every variable the server understands, with its default. Keys are the env names. */
const ENV_SCHEMA = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  COACHWIRE_HOST: z.string().min(1).default("0.0.0.0"),
  COACHWIRE_PORT: int(0, 65535).default(8080),
  COACHWIRE_TRANSPORT: z.enum(["uws", "node"]).default("uws"),
  COACHWIRE_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_REPLICA_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  COACHWIRE_DB_POOL_SIZE: int(1, 500).default(10),
  COACHWIRE_DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lowercase SQL identifier").optional(),
  COACHWIRE_DATA_DIR: z.string().min(1).default("./data"),
  COACHWIRE_JWT_SECRET: z
    .string()
    .min(32, "must be at least 32 characters")
    .refine((v) => v !== RETIRED_JWT_SECRET, "is the old public default; choose a secret of your own, or unset it to have one generated")
    .optional(),
  COACHWIRE_ACCESS_TOKEN_TTL_S: int(10, 86_400).default(900),
  COACHWIRE_REFRESH_TOKEN_TTL_S: int(60, 31_536_000).default(2_592_000),
  COACHWIRE_PARSER: z.enum(["msgpack", "json"]).default("msgpack"),
  COACHWIRE_MAX_PAYLOAD_BYTES: int(1024, 16 * 1024 * 1024).default(65_536),
  COACHWIRE_FLUSH_MS: int(0, 1000).default(2),
  COACHWIRE_FLUSH_MAX_EVENTS: int(1, 10_000).default(300),
  COACHWIRE_JOIN_BACKLOG_MAX: int(1, 10_000).default(500),
  COACHWIRE_JOIN_RECENT: int(0, 1000).default(50),
  COACHWIRE_JOIN_BATCH_MS: int(0, 100).default(2),
  COACHWIRE_HISTORY_LIMIT_MAX: int(1, 1000).default(200),
  COACHWIRE_LOGIN_RATE_PER_MIN: int(1, 100_000).default(10),
  COACHWIRE_SEND_RATE_PER_S: int(1, 100_000).default(20),
  COACHWIRE_SEND_BURST: int(1, 100_000).default(40),
  COACHWIRE_SLOW_CONSUMER_BYTES: int(16_384, 256 * 1024 * 1024).default(1_048_576),
  COACHWIRE_TRUST_PROXY: bool.default(false),
  COACHWIRE_TRUSTED_PROXIES: cidrList(DEFAULT_TRUSTED_PROXIES),
  COACHWIRE_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  COACHWIRE_DEMO_SEED: bool.optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  COACHWIRE_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{0,64}$/, "must be up to 64 of A-Z a-z 0-9 : _ -").default("coachwire:"),
  COACHWIRE_REDIS_ADAPTER: z.enum(["classic", "sharded"]).default("classic"),
  COACHWIRE_SERVER_PROCESSES: int(1, 256).optional(),
  /** Deprecated alias of COACHWIRE_SERVER_PROCESSES (a "worker" is a job worker). */
  COACHWIRE_WORKERS: int(1, 256).optional(),
  COACHWIRE_PORT_BASE: int(1, 65_000).default(8081),
  COACHWIRE_DRAIN_MS: int(0, 600_000).default(10_000),
  COACHWIRE_DRAIN_LB_WAIT_MS: int(0, 60_000).default(0),
  COACHWIRE_DRAIN_SPREAD_MS: int(0, 600_000).default(5000),
  COACHWIRE_ADMIT_RATE_PER_S: int(1, 1_000_000).default(1000),
  COACHWIRE_ADMIT_BURST: int(1, 1_000_000).default(1000),
  COACHWIRE_ADMIT_IN_FLIGHT_MAX: int(1, 1_000_000).default(1000),
  COACHWIRE_ADMIT_QUEUE_MS: int(0, 60_000).default(2000),
  COACHWIRE_PRESENCE_TTL_S: int(2, 3600).default(15),
  COACHWIRE_PRESENCE_GRACE_MS: int(0, 600_000).default(5000),
  COACHWIRE_TYPING_THROTTLE_MS: int(0, 60_000).default(1500),
  COACHWIRE_READ_FLUSH_MS: int(0, 60_000).default(250),
  COACHWIRE_SUBJECT_CACHE_S: int(0, 86_400).default(60),
  COACHWIRE_REMINDER_OFFSETS_MIN: z
    .string()
    .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, "must be a comma-separated list of minutes, e.g. 1440,60")
    .default("1440,60"),
  COACHWIRE_NUDGE_CHECKPOINTS: z
    .string()
    .regex(/^\s*(0?\.\d+)?(\s*,\s*0?\.\d+)*\s*$/, "must be a comma-separated list of fractions between 0 and 1, e.g. 0.5,0.75")
    .default("0.5,0.75"),
  COACHWIRE_DIGEST_HOUR: int(0, 23).default(18),
  COACHWIRE_JOB_LEASE_MS: int(1000, 3_600_000).default(60_000),
  COACHWIRE_WORKER_CONCURRENCY: int(1, 1000).default(4),
  COACHWIRE_WORKER_METRICS_PORT: int(0, 65535).default(9464),
  COACHWIRE_JOB_POLL_MS: int(50, 600_000).default(1000),
  COACHWIRE_JOB_ATTEMPTS: int(1, 100).default(5),
  COACHWIRE_HTTP_RATE_PER_MIN: int(1, 1_000_000).default(100),
  COACHWIRE_TRUSTED_CIDRS: cidrList(""),
  COACHWIRE_METRICS: bool.default(true),
  COACHWIRE_SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  COACHWIRE_MAIL_FROM: z.string().min(3).max(200).default("coachwire <no-reply@coachwire.invalid>"),
  COACHWIRE_INVITE_TTL_S: int(300, 30 * 86_400).default(7 * 86_400),
  COACHWIRE_RESET_TTL_S: int(60, 86_400).default(1800),
  COACHWIRE_WELCOME_TTL_S: int(300, 30 * 86_400).default(7 * 86_400),
  COACHWIRE_PASSWORD_MIN_LENGTH: int(8, 128).default(10),
  COACHWIRE_TERMS_VERSION: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 of A-Z a-z 0-9 . _ -").default("2026-12-01"),
  COACHWIRE_PARENT_DIGEST_WEEKDAY: int(0, 6).default(0),
  COACHWIRE_METRICS_PORT: int(0, 65535).optional(),
  COACHWIRE_METRICS_CIDRS: z
    .string()
    .default("127.0.0.0/8,::1/128")
    .refine((v) => parseCidrList(v) !== undefined, "must be a comma-separated list of CIDR ranges, e.g. 127.0.0.0/8,10.0.0.0/8"),
  COACHWIRE_METRICS_CACHE_MS: int(0, 60_000).default(1000),
  COACHWIRE_METRICS_RATE_PER_MIN: int(1, 1_000_000).default(120),
  COACHWIRE_HANDSHAKE_TIMEOUT_MS: int(100, 120_000).default(5000),
  COACHWIRE_HANDSHAKE_FAILURES_PER_MIN: int(1, 100_000).default(30),
  COACHWIRE_PENDING_PER_IP_MAX: int(1, 100_000).default(32),
  COACHWIRE_SOCKETS_PER_USER_MAX: int(1, 100_000).default(20),
  COACHWIRE_FLOOD_GRACE_MS: int(1000, 600_000).default(5000),
  COACHWIRE_FLOOD_BACKOFF_MS: int(0, 3_600_000).default(30_000),
  COACHWIRE_LOGIN_ACCOUNT_IP_ATTEMPTS: int(1, 100_000).default(5),
  COACHWIRE_LOGIN_ACCOUNT_ATTEMPTS: int(1, 1_000_000).default(30),
  COACHWIRE_LOGIN_ACCOUNT_WINDOW_S: int(1, 86_400).default(900),
  COACHWIRE_LOGIN_KNOWN_SOURCE_DAYS: int(0, 3650).default(30),
  COACHWIRE_CREATE_QUOTA: int(1, 1_000_000).default(100),
  COACHWIRE_CREATE_QUOTA_WINDOW_S: int(1, 604_800).default(3600),
});

type Env = z.infer<typeof ENV_SCHEMA>;

/** The validated, frozen configuration the server runs with. */
export interface Config {
  /** Settings that work but should change (a deprecated name); entry points print them. */
  readonly warnings: readonly string[];
  readonly env: Env["NODE_ENV"];
  readonly host: string;
  readonly port: number;
  readonly transport: "uws" | "node";
  readonly logLevel: Env["COACHWIRE_LOG_LEVEL"];
  readonly db: Readonly<{
    url: string | undefined;
    replicaUrl: string | undefined;
    poolSize: number;
    schema: string | undefined;
    dataDir: string;
  }>;
  /** `jwtSecret` undefined: the installation's own generated secret (server/auth/jwt-secret.ts). */
  readonly auth: Readonly<{ jwtSecret: string | undefined; accessTtlS: number; refreshTtlS: number }>;
  readonly wire: Readonly<{ parser: "msgpack" | "json"; maxPayloadBytes: number; slowConsumerBytes: number }>;
  readonly persister: Readonly<{ flushMs: number; flushMaxEvents: number }>;
  /** `joinBatchMs`: how long a join's reads wait to share a query with other joins. */
  readonly rooms: Readonly<{ joinBacklogMax: number; joinRecent: number; historyLimitMax: number; joinBatchMs: number }>;
  readonly limits: Readonly<{
    loginPerMin: number;
    sendPerS: number;
    sendBurst: number;
    httpPerMin: number;
    trustProxy: boolean;
    /** The proxies whose X-Forwarded-For entries are believed (with trustProxy). */
    trustedProxies: readonly string[];
    /** Source ranges exempt from rate limits (a local bench, monitoring). */
    trustedCidrs: readonly string[];
    /** Per (account, client IP): login attempts per `loginAccountWindowS`; the backoff a guesser meets first. */
    loginAccountIpAttempts: number;
    /** Per account, from sources that have not logged in to it before: the looser cap across all IPs. */
    loginAccountAttempts: number;
    loginAccountWindowS: number;
    /** A source that logged in to an account stays known-good (past the per-account cap) this long; 0 turns the memory off. */
    loginKnownSourceMs: number;
    /** Creations (tasks, rooms, join codes, subjects) per user and kind per `createQuotaWindowS`. */
    createQuota: number;
    createQuotaWindowS: number;
    /** Socket.IO sockets one user may hold open on one server process. */
    socketsPerUser: number;
  }>;
  /** Handshake defences: unauthenticated connections are short-lived, few per IP, and failures are rationed per IP. */
  readonly handshake: Readonly<{ timeoutMs: number; failuresPerMin: number; pendingPerIp: number }>;
  /** A connection over its request budget for `graceMs` is closed and told to stay away `backoffMs`. */
  readonly flood: Readonly<{ graceMs: number; backoffMs: number }>;
  readonly redis: Readonly<{ url: string | undefined; prefix: string; adapter: "classic" | "sharded" }>;
  readonly cluster: Readonly<{ serverProcesses: number; portBase: number }>;
  /** A drain tells its clients to move spread over `spreadMs`, and waits at most `ms` for them to go. */
  readonly drain: Readonly<{ ms: number; lbWaitMs: number; spreadMs: number }>;
  /** Handshakes admitted per process: a token bucket (`ratePerS`, `burst`), at most `inFlightMax` being served, a line of at most `queueMs`. */
  readonly admission: Readonly<{ ratePerS: number; burst: number; inFlightMax: number; queueMs: number }>;
  /** `graceMs`: a user whose last connection dropped stays online this long (a reconnect in time announces nothing). */
  readonly presence: Readonly<{ ttlMs: number; typingThrottleMs: number; graceMs: number }>;
  /** Read marks are written every `readFlushMs`; the subject catalog is cached `subjectCacheMs`. */
  readonly coaching: Readonly<{ readFlushMs: number; subjectCacheMs: number }>;
  /** Background notices: reminder offsets before the due time, worker concurrency, the embedded runner's poll. */
  readonly jobs: Readonly<{
    reminderOffsetsMs: readonly number[];
    nudgeCheckpoints: readonly number[];
    digestHour: number;
    concurrency: number;
    metricsPort: number;
    pollMs: number;
    leaseMs: number;
    attempts: number;
  }>;
  readonly metrics: boolean;
  /** Where GET /metrics is served: its own port, or the main port for `cidrs` only; rendered at most once per `cacheMs`. */
  readonly metricsAccess: Readonly<{ port: number | undefined; cidrs: readonly string[]; cacheMs: number; ratePerMin: number }>;
  readonly demoSeed: boolean;
  /** Accounts: where mailed links point, token lifetimes, the password rule. */
  readonly accounts: Readonly<{ publicUrl: string; inviteTtlS: number; resetTtlS: number; welcomeTtlS: number; passwordMinLength: number }>;
  /** Mail: SMTP when `smtpUrl` is set, else the outbox table (and the server log). */
  readonly mail: Readonly<{ smtpUrl: string | undefined; from: string }>;
  /** The terms version users must have accepted (consent records). */
  readonly privacy: Readonly<{ termsVersion: string }>;
  /** The weekly parent digest: the local weekday it goes out on (0 = Sunday), at jobs.digestHour. */
  readonly parents: Readonly<{ digestWeekday: number }>;
  /** Where clients reach this server (a balancer in front of it), for the start banner; undefined: the listening port. */
  readonly publicUrl: string | undefined;
}

/** Thrown when the environment is invalid; the message names every offending variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const KNOWN = new Set(Object.keys(ENV_SCHEMA.shape));

/** One variable the server understands, and its default as it would be written in the environment (undefined: none). */
export interface EnvSetting {
  readonly name: string;
  readonly default: string | undefined;
}

/** Every variable of the schema with its default, in schema order: what the README's configuration table must list (test/docs-drift.test.ts). */
export function envSettings(): readonly EnvSetting[] {
  return Object.entries(ENV_SCHEMA.shape).map(([name, schema]) => {
    // A defaulted field parses `undefined` to its default; an optional one to undefined.
    const parsed = (schema as z.ZodType).safeParse(undefined);
    const value = parsed.success ? parsed.data : undefined;
    return { name, default: value === undefined ? undefined : String(value) };
  });
}

function closest(name: string): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const known of KNOWN) {
    const d = editDistance(name, known);
    if (d < bestScore) [best, bestScore] = [known, d];
  }
  return bestScore <= 4 ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** How a rejected value appears in the error: secrets hidden, passwords cut out of URLs. */
function shown(name: string, value: string | undefined): string {
  if (name === "COACHWIRE_JWT_SECRET") return "(hidden)";
  if (value !== undefined && name.endsWith("_URL")) return JSON.stringify(value.replace(/\/\/[^@/]*@/, "//(credentials hidden)@"));
  return JSON.stringify(value);
}

/** Reads, validates and freezes the configuration; throws {@link ConfigError} naming what is wrong. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  for (const name of Object.keys(source)) {
    if (name.startsWith("COACHWIRE_") && !KNOWN.has(name)) {
      const hint = closest(name);
      problems.push(`${name} is not a known setting${hint ? ` (did you mean ${hint}?)` : ""}`);
    }
  }
  const picked: Record<string, string> = {};
  for (const name of KNOWN) {
    const value = source[name];
    if (value !== undefined && value !== "") picked[name] = value;
  }
  const parsed = ENV_SCHEMA.safeParse(picked);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      problems.push(`${name}=${shown(name, picked[name])} is invalid: ${issue.message}`);
    }
  }
  const metricsPort = picked["COACHWIRE_METRICS_PORT"];
  if (metricsPort !== undefined && metricsPort !== "0" && metricsPort === (picked["COACHWIRE_PORT"] ?? "8080")) {
    problems.push(`COACHWIRE_METRICS_PORT=${metricsPort} is the clients' port (COACHWIRE_PORT): give the metrics a port of their own, or leave it unset`);
  }
  const secret = picked["COACHWIRE_JWT_SECRET"];
  // Several hosts on one database would share a generated secret, but production manages its own.
  if (picked["NODE_ENV"] === "production" && secret === undefined) {
    problems.push("COACHWIRE_JWT_SECRET must be set to a secret of your own when NODE_ENV=production");
  }
  if (picked["COACHWIRE_WORKERS"] !== undefined && picked["COACHWIRE_SERVER_PROCESSES"] !== undefined) {
    problems.push("COACHWIRE_WORKERS is the deprecated name of COACHWIRE_SERVER_PROCESSES: set only COACHWIRE_SERVER_PROCESSES");
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  const env = parsed.data;
  const warnings: string[] = [];
  if (env.COACHWIRE_WORKERS !== undefined) {
    warnings.push("COACHWIRE_WORKERS is deprecated: it is the number of server processes, now COACHWIRE_SERVER_PROCESSES (a worker is a job worker, npm run worker)");
  }
  const config: Config = {
    warnings: Object.freeze(warnings),
    env: env.NODE_ENV,
    host: env.COACHWIRE_HOST,
    port: env.COACHWIRE_PORT,
    transport: env.COACHWIRE_TRANSPORT,
    logLevel: env.COACHWIRE_LOG_LEVEL,
    db: Object.freeze({
      url: env.DATABASE_URL,
      replicaUrl: env.DATABASE_REPLICA_URL,
      poolSize: env.COACHWIRE_DB_POOL_SIZE,
      schema: env.COACHWIRE_DB_SCHEMA,
      dataDir: env.COACHWIRE_DATA_DIR,
    }),
    auth: Object.freeze({
      jwtSecret: env.COACHWIRE_JWT_SECRET,
      accessTtlS: env.COACHWIRE_ACCESS_TOKEN_TTL_S,
      refreshTtlS: env.COACHWIRE_REFRESH_TOKEN_TTL_S,
    }),
    wire: Object.freeze({
      parser: env.COACHWIRE_PARSER,
      maxPayloadBytes: env.COACHWIRE_MAX_PAYLOAD_BYTES,
      slowConsumerBytes: env.COACHWIRE_SLOW_CONSUMER_BYTES,
    }),
    persister: Object.freeze({ flushMs: env.COACHWIRE_FLUSH_MS, flushMaxEvents: env.COACHWIRE_FLUSH_MAX_EVENTS }),
    rooms: Object.freeze({
      joinBacklogMax: env.COACHWIRE_JOIN_BACKLOG_MAX,
      joinRecent: env.COACHWIRE_JOIN_RECENT,
      historyLimitMax: env.COACHWIRE_HISTORY_LIMIT_MAX,
      joinBatchMs: env.COACHWIRE_JOIN_BATCH_MS,
    }),
    limits: Object.freeze({
      loginPerMin: env.COACHWIRE_LOGIN_RATE_PER_MIN,
      sendPerS: env.COACHWIRE_SEND_RATE_PER_S,
      sendBurst: env.COACHWIRE_SEND_BURST,
      httpPerMin: env.COACHWIRE_HTTP_RATE_PER_MIN,
      trustProxy: env.COACHWIRE_TRUST_PROXY,
      trustedProxies: Object.freeze(parseCidrList(env.COACHWIRE_TRUSTED_PROXIES) ?? []),
      trustedCidrs: Object.freeze(parseCidrList(env.COACHWIRE_TRUSTED_CIDRS) ?? []),
      loginAccountIpAttempts: env.COACHWIRE_LOGIN_ACCOUNT_IP_ATTEMPTS,
      loginAccountAttempts: env.COACHWIRE_LOGIN_ACCOUNT_ATTEMPTS,
      loginAccountWindowS: env.COACHWIRE_LOGIN_ACCOUNT_WINDOW_S,
      loginKnownSourceMs: env.COACHWIRE_LOGIN_KNOWN_SOURCE_DAYS * 86_400_000,
      createQuota: env.COACHWIRE_CREATE_QUOTA,
      createQuotaWindowS: env.COACHWIRE_CREATE_QUOTA_WINDOW_S,
      socketsPerUser: env.COACHWIRE_SOCKETS_PER_USER_MAX,
    }),
    handshake: Object.freeze({
      timeoutMs: env.COACHWIRE_HANDSHAKE_TIMEOUT_MS,
      failuresPerMin: env.COACHWIRE_HANDSHAKE_FAILURES_PER_MIN,
      pendingPerIp: env.COACHWIRE_PENDING_PER_IP_MAX,
    }),
    flood: Object.freeze({ graceMs: env.COACHWIRE_FLOOD_GRACE_MS, backoffMs: env.COACHWIRE_FLOOD_BACKOFF_MS }),
    redis: Object.freeze({ url: env.REDIS_URL, prefix: env.COACHWIRE_REDIS_PREFIX, adapter: env.COACHWIRE_REDIS_ADAPTER }),
    cluster: Object.freeze({ serverProcesses: env.COACHWIRE_SERVER_PROCESSES ?? env.COACHWIRE_WORKERS ?? availableParallelism(), portBase: env.COACHWIRE_PORT_BASE }),
    drain: Object.freeze({ ms: env.COACHWIRE_DRAIN_MS, lbWaitMs: env.COACHWIRE_DRAIN_LB_WAIT_MS, spreadMs: Math.min(env.COACHWIRE_DRAIN_SPREAD_MS, env.COACHWIRE_DRAIN_MS) }),
    admission: Object.freeze({
      ratePerS: env.COACHWIRE_ADMIT_RATE_PER_S,
      burst: env.COACHWIRE_ADMIT_BURST,
      inFlightMax: env.COACHWIRE_ADMIT_IN_FLIGHT_MAX,
      queueMs: env.COACHWIRE_ADMIT_QUEUE_MS,
    }),
    presence: Object.freeze({ ttlMs: env.COACHWIRE_PRESENCE_TTL_S * 1000, typingThrottleMs: env.COACHWIRE_TYPING_THROTTLE_MS, graceMs: env.COACHWIRE_PRESENCE_GRACE_MS }),
    coaching: Object.freeze({ readFlushMs: env.COACHWIRE_READ_FLUSH_MS, subjectCacheMs: env.COACHWIRE_SUBJECT_CACHE_S * 1000 }),
    jobs: Object.freeze({
      reminderOffsetsMs: Object.freeze([...new Set(env.COACHWIRE_REMINDER_OFFSETS_MIN.split(",").map((m) => Number(m.trim()) * 60_000))].filter((ms) => ms > 0)),
      nudgeCheckpoints: Object.freeze(
        [...new Set(env.COACHWIRE_NUDGE_CHECKPOINTS.split(",").filter((c) => c.trim() !== "").map(Number))].filter((c) => c > 0 && c < 1),
      ),
      digestHour: env.COACHWIRE_DIGEST_HOUR,
      concurrency: env.COACHWIRE_WORKER_CONCURRENCY,
      metricsPort: env.COACHWIRE_WORKER_METRICS_PORT,
      pollMs: env.COACHWIRE_JOB_POLL_MS,
      leaseMs: env.COACHWIRE_JOB_LEASE_MS,
      attempts: env.COACHWIRE_JOB_ATTEMPTS,
    }),
    metrics: env.COACHWIRE_METRICS,
    metricsAccess: Object.freeze({
      port: env.COACHWIRE_METRICS_PORT,
      cidrs: Object.freeze(parseCidrList(env.COACHWIRE_METRICS_CIDRS) ?? []),
      cacheMs: env.COACHWIRE_METRICS_CACHE_MS,
      ratePerMin: env.COACHWIRE_METRICS_RATE_PER_MIN,
    }),
    demoSeed: env.COACHWIRE_DEMO_SEED ?? env.NODE_ENV !== "production",
    accounts: Object.freeze({
      publicUrl: (env.COACHWIRE_PUBLIC_URL ?? `http://localhost:${env.COACHWIRE_PORT}`).replace(/\/+$/, ""),
      inviteTtlS: env.COACHWIRE_INVITE_TTL_S,
      resetTtlS: env.COACHWIRE_RESET_TTL_S,
      welcomeTtlS: env.COACHWIRE_WELCOME_TTL_S,
      passwordMinLength: env.COACHWIRE_PASSWORD_MIN_LENGTH,
    }),
    mail: Object.freeze({ smtpUrl: env.COACHWIRE_SMTP_URL, from: env.COACHWIRE_MAIL_FROM }),
    privacy: Object.freeze({ termsVersion: env.COACHWIRE_TERMS_VERSION }),
    parents: Object.freeze({ digestWeekday: env.COACHWIRE_PARENT_DIGEST_WEEKDAY }),
    publicUrl: env.COACHWIRE_PUBLIC_URL?.replace(/\/+$/, ""),
  };
  return Object.freeze(config);
}
