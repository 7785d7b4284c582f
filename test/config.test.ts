import { availableParallelism } from "node:os";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, DEFAULT_TRUSTED_PROXIES, loadConfig, RETIRED_JWT_SECRET, type Config } from "../server/config.ts";

// loadConfig is pure over its source: every case passes its own env object, never process.env.

const OWN_SECRET = "a-production-secret-of-our-own-0123456789";

/** Matches a problem line of the message (one per line) that is about the variable `name`. */
const problemAbout = (name: string) => new RegExp(`^\\s+${name}\\b`, "m");

/** Asserts that loading `env` throws a ConfigError whose message passes every check. */
function assertRefused(env: Record<string, string>, ...checks: Array<RegExp | string>): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${JSON.stringify(env)}, got ${String(caught)}`);
  for (const check of checks) {
    if (typeof check === "string") assert.ok(caught.message.includes(check), `message should mention ${check}:\n${caught.message}`);
    else assert.match(caught.message, check);
  }
  return caught;
}

describe("loadConfig", () => {
  test("an empty environment gives the documented defaults", () => {
    const config = loadConfig({});
    assert.deepEqual(config, {
      warnings: [],
      env: "development",
      host: "0.0.0.0",
      port: 8080,
      transport: "uws",
      logLevel: "info",
      db: { url: undefined, replicaUrl: undefined, poolSize: 10, schema: undefined, dataDir: "./data" },
      // No secret configured: each installation generates its own (server/auth/jwt-secret.ts).
      auth: { jwtSecret: undefined, accessTtlS: 900, refreshTtlS: 2_592_000 },
      wire: { parser: "msgpack", maxPayloadBytes: 65_536, slowConsumerBytes: 1_048_576 },
      persister: { flushMs: 2, flushMaxEvents: 300 },
      rooms: { joinBacklogMax: 500, joinRecent: 50, historyLimitMax: 200, joinBatchMs: 2 },
      limits: {
        loginPerMin: 10,
        sendPerS: 20,
        sendBurst: 40,
        httpPerMin: 100,
        trustProxy: false,
        trustedProxies: DEFAULT_TRUSTED_PROXIES.split(","),
        trustedCidrs: [],
        loginAccountIpAttempts: 5,
        loginAccountAttempts: 30,
        loginAccountWindowS: 900,
        loginKnownSourceMs: 30 * 86_400_000,
        createQuota: 100,
        createQuotaWindowS: 3600,
        socketsPerUser: 20,
      },
      handshake: { timeoutMs: 5000, failuresPerMin: 30, pendingPerIp: 32 },
      flood: { graceMs: 5000, backoffMs: 30_000 },
      redis: { url: undefined, prefix: "coachwire:", adapter: "classic" },
      cluster: { serverProcesses: availableParallelism(), portBase: 8081 },
      drain: { ms: 10_000, lbWaitMs: 0, spreadMs: 5000 },
      admission: { ratePerS: 1000, burst: 1000, inFlightMax: 1000, queueMs: 2000 },
      presence: { ttlMs: 15_000, typingThrottleMs: 1500, graceMs: 5000 },
      coaching: { readFlushMs: 250, subjectCacheMs: 60_000 },
      jobs: {
        reminderOffsetsMs: [86_400_000, 3_600_000],
        nudgeCheckpoints: [0.5, 0.75],
        digestHour: 18,
        concurrency: 4,
        metricsPort: 9464,
        pollMs: 1000,
        leaseMs: 60_000,
        attempts: 5,
      },
      metrics: true,
      metricsAccess: { port: undefined, cidrs: ["127.0.0.0/8", "::1/128"], cacheMs: 1000, ratePerMin: 120 },
      demoSeed: true,
      accounts: { publicUrl: "http://localhost:8080", inviteTtlS: 604_800, resetTtlS: 1800, welcomeTtlS: 604_800, passwordMinLength: 10 },
      mail: { smtpUrl: undefined, from: "coachwire <no-reply@coachwire.invalid>" },
      privacy: { termsVersion: "2026-12-01" },
      parents: { digestWeekday: 0 },
      publicUrl: undefined,
    } satisfies Config);
  });

  test("COACHWIRE_SERVER_PROCESSES sets the cluster's server processes; COACHWIRE_WORKERS, its old name, still does, with a warning; both at once are refused", () => {
    assert.equal(loadConfig({ COACHWIRE_SERVER_PROCESSES: "3" }).cluster.serverProcesses, 3);
    assert.deepEqual(loadConfig({ COACHWIRE_SERVER_PROCESSES: "3" }).warnings, []);
    const old = loadConfig({ COACHWIRE_WORKERS: "5" });
    assert.equal(old.cluster.serverProcesses, 5);
    assert.equal(old.warnings.length, 1);
    assert.match(old.warnings[0]!, /COACHWIRE_WORKERS is deprecated.*COACHWIRE_SERVER_PROCESSES/);
    assert.throws(() => loadConfig({ COACHWIRE_WORKERS: "2", COACHWIRE_SERVER_PROCESSES: "2" }), /set only COACHWIRE_SERVER_PROCESSES/);
  });

  test("trusted source ranges are parsed, and a bad range is refused", () => {
    assert.deepEqual(loadConfig({ COACHWIRE_TRUSTED_CIDRS: "127.0.0.0/8, ::1/128" }).limits.trustedCidrs, ["127.0.0.0/8", "::1/128"]);
    for (const bad of ["127.0.0.1", "127.0.0.0/33", "10.0.0.0/8,nope/8", "::1/129"]) {
      assertRefused({ COACHWIRE_TRUSTED_CIDRS: bad }, problemAbout("COACHWIRE_TRUSTED_CIDRS"));
    }
  });

  test("set values are parsed into their types; an empty string counts as unset", () => {
    const config = loadConfig({
      COACHWIRE_PORT: "9090",
      COACHWIRE_PARSER: "json",
      COACHWIRE_TRUST_PROXY: "1",
      DATABASE_URL: "postgres://app@db.internal:5432/coachwire",
      COACHWIRE_HOST: "",
    });
    assert.equal(config.port, 9090);
    assert.equal(config.wire.parser, "json");
    assert.equal(config.limits.trustProxy, true);
    assert.equal(config.db.url, "postgres://app@db.internal:5432/coachwire");
    assert.equal(config.host, "0.0.0.0");
  });

  test("the result and every nested object are frozen", () => {
    const config = loadConfig({});
    assert.ok(Object.isFrozen(config));
    for (const key of ["db", "auth", "wire", "persister", "rooms", "limits", "accounts", "mail"] as const) {
      assert.ok(Object.isFrozen(config[key]), `config.${key} should be frozen`);
    }
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.auth as { jwtSecret: string }).jwtSecret = "x".repeat(40);
    }, TypeError);
  });

  test("a misspelled COACHWIRE_ variable is refused, naming it and suggesting the right one", () => {
    assertRefused({ COACHWIRE_PROT: "9090" }, problemAbout("COACHWIRE_PROT"), /did you mean COACHWIRE_PORT\?/);
  });

  test("an unknown COACHWIRE_ variable far from any known name is refused without a suggestion", () => {
    const err = assertRefused({ COACHWIRE_SOMETHING_ELSE_ENTIRELY: "1" }, problemAbout("COACHWIRE_SOMETHING_ELSE_ENTIRELY"));
    assert.doesNotMatch(err.message, /did you mean/);
  });

  const invalid: Array<[string, Record<string, string>]> = [
    ["a port that is not a number", { COACHWIRE_PORT: "abc" }],
    ["a port above 65535", { COACHWIRE_PORT: "70000" }],
    ["a negative port", { COACHWIRE_PORT: "-1" }],
    ["an unknown parser", { COACHWIRE_PARSER: "xml" }],
    ["a database URL that is not PostgreSQL", { DATABASE_URL: "mysql://x" }],
    ["a replica URL that is not a URL", { DATABASE_REPLICA_URL: "not a url" }],
    ["a JWT secret shorter than 32 characters", { COACHWIRE_JWT_SECRET: "x".repeat(31) }],
    ["an access token TTL under the 10 s minimum", { COACHWIRE_ACCESS_TOKEN_TTL_S: "9" }],
    ["a boolean that is not one", { COACHWIRE_TRUST_PROXY: "yes" }],
    ["a trusted proxy that is not a CIDR range", { COACHWIRE_TRUSTED_PROXIES: "10.0.0.0/8,proxy.internal" }],
    ["a public URL that is not http(s)", { COACHWIRE_PUBLIC_URL: "ws://lb:8080" }],
    ["the retired public default JWT secret, outside production too", { COACHWIRE_JWT_SECRET: RETIRED_JWT_SECRET }],
    ["an unknown NODE_ENV", { NODE_ENV: "staging" }],
    ["an SMTP URL that is not smtp(s)", { COACHWIRE_SMTP_URL: "http://mail.example" }],
    ["a password minimum under 8", { COACHWIRE_PASSWORD_MIN_LENGTH: "7" }],
    ["a reset token lifetime under a minute", { COACHWIRE_RESET_TTL_S: "59" }],
    ["a metrics port that is the clients' port", { COACHWIRE_METRICS_PORT: "8080" }],
    ["a metrics allow-list that is not CIDR ranges", { COACHWIRE_METRICS_CIDRS: "localhost" }],
    ["a handshake timeout under 100 ms", { COACHWIRE_HANDSHAKE_TIMEOUT_MS: "99" }],
    ["a flood grace under 1 s", { COACHWIRE_FLOOD_GRACE_MS: "999" }],
    ["a socket cap of 0", { COACHWIRE_SOCKETS_PER_USER_MAX: "0" }],
    ["a creation quota of 0", { COACHWIRE_CREATE_QUOTA: "0" }],
  ];
  for (const [what, env] of invalid) {
    test(`${what} is refused, naming the variable`, () => {
      const [name] = Object.keys(env);
      assertRefused(env, problemAbout(name!));
    });
  }

  test("several problems are all reported in one error", () => {
    assertRefused(
      { COACHWIRE_PROT: "1", COACHWIRE_PORT: "abc", COACHWIRE_PARSER: "xml", DATABASE_URL: "mysql://x" },
      problemAbout("COACHWIRE_PROT"),
      problemAbout("COACHWIRE_PORT"),
      problemAbout("COACHWIRE_PARSER"),
      problemAbout("DATABASE_URL"),
    );
  });

  test("in production, the missing JWT secret is reported together with the other problems", () => {
    // ConfigError promises to name every offending variable, so a fix-one-restart-fail loop is avoided.
    assertRefused(
      { NODE_ENV: "production", COACHWIRE_PORT: "abc" },
      problemAbout("COACHWIRE_PORT"),
      problemAbout("COACHWIRE_JWT_SECRET"),
    );
  });

  test("an invalid secret value is named but not echoed into the error (it ends up on stderr and in logs)", () => {
    const almostSecret = "s3cr3t-but-too-short";
    const dbPassword = "hunter2-db-password";
    const err = assertRefused(
      { COACHWIRE_JWT_SECRET: almostSecret, DATABASE_URL: `mysql://app:${dbPassword}@db.internal/coachwire` },
      problemAbout("COACHWIRE_JWT_SECRET"),
      problemAbout("DATABASE_URL"),
    );
    assert.ok(!err.message.includes(almostSecret), `the JWT secret leaks into the message:\n${err.message}`);
    assert.ok(!err.message.includes(dbPassword), `the database password leaks into the message:\n${err.message}`);
  });

  test("NODE_ENV=production without COACHWIRE_JWT_SECRET is refused", () => {
    assertRefused({ NODE_ENV: "production" }, problemAbout("COACHWIRE_JWT_SECRET"), "production");
    assertRefused({ NODE_ENV: "production", COACHWIRE_JWT_SECRET: "" }, problemAbout("COACHWIRE_JWT_SECRET"));
    assertRefused({ NODE_ENV: "production", COACHWIRE_JWT_SECRET: RETIRED_JWT_SECRET }, problemAbout("COACHWIRE_JWT_SECRET"));
  });

  test("NODE_ENV=production with a secret of its own starts", () => {
    const config = loadConfig({ NODE_ENV: "production", COACHWIRE_JWT_SECRET: OWN_SECRET });
    assert.equal(config.env, "production");
    assert.equal(config.auth.jwtSecret, OWN_SECRET);
  });

  test("demoSeed defaults to true in development and false in production, and can be set either way", () => {
    assert.equal(loadConfig({}).demoSeed, true);
    assert.equal(loadConfig({ NODE_ENV: "development" }).demoSeed, true);
    assert.equal(loadConfig({ NODE_ENV: "production", COACHWIRE_JWT_SECRET: OWN_SECRET }).demoSeed, false);
    assert.equal(loadConfig({ COACHWIRE_DEMO_SEED: "false" }).demoSeed, false);
    assert.equal(
      loadConfig({ NODE_ENV: "production", COACHWIRE_JWT_SECRET: OWN_SECRET, COACHWIRE_DEMO_SEED: "true" }).demoSeed,
      true,
    );
  });

  test("variables that are not coachwire's (PATH, HOME, …) are ignored", () => {
    const config = loadConfig({ PATH: "/usr/bin:/bin", HOME: "/home/someone", PORT: "abc", COACHWIRE: "x", LANG: "C.UTF-8" });
    assert.deepEqual(config, loadConfig({}));
  });
});
