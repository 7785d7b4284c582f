import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";
import { startBanner } from "../server/banner.ts";
import { loadConfig } from "../server/config.ts";
import { freePortRun, STACK_DEFAULTS, stackEnvironment, type StackOptions } from "../server/stack.ts";

// `npm run stack` hands the user's COACHWIRE_* settings to its servers and job workers (it used
// to drop every one of them), sets only what its shape needs, and says which of the user's
// values it replaced. The environments computed here are what startStack spawns the children with.

const options: StackOptions = { ...STACK_DEFAULTS, workers: 2, portBase: 8081, lbPort: 8080 };

describe("stackEnvironment: what the stack's children run with", () => {
  test("the user's COACHWIRE_* settings reach the servers and the job workers, and nothing is reported for them", () => {
    const user = {
      PATH: "/usr/bin",
      COACHWIRE_REMINDER_OFFSETS_MIN: "1",
      COACHWIRE_REDIS_ADAPTER: "sharded",
      COACHWIRE_JWT_SECRET: "a-secret-of-the-users-own-0123456789abcdef",
    };
    const env = stackEnvironment(options, {}, user);
    for (const child of [env.cluster, env.jobWorker(9999)]) {
      assert.equal(child["COACHWIRE_REMINDER_OFFSETS_MIN"], "1");
      assert.equal(child["COACHWIRE_REDIS_ADAPTER"], "sharded");
      assert.equal(child["COACHWIRE_JWT_SECRET"], user.COACHWIRE_JWT_SECRET);
      assert.equal(child["PATH"], "/usr/bin");
      // Every child's configuration loads (no unknown or invalid variable slipped in).
      loadConfig(Object.fromEntries(Object.entries(child).filter(([k]) => k.startsWith("COACHWIRE_") || k.endsWith("_URL"))));
    }
    assert.deepEqual(env.overridden, []);
  });

  test("the stack's defaults give way to the user's values; a caller's serverEnv wins over both", () => {
    const user = { COACHWIRE_DB_SCHEMA: "mine", COACHWIRE_DRAIN_LB_WAIT_MS: "5000", COACHWIRE_LOG_LEVEL: "debug" };
    const env = stackEnvironment(options, { COACHWIRE_LOG_LEVEL: "warn" }, user);
    assert.equal(env.cluster["COACHWIRE_DB_SCHEMA"], "mine");
    assert.equal(env.cluster["COACHWIRE_DRAIN_LB_WAIT_MS"], "5000");
    assert.equal(env.cluster["COACHWIRE_LOG_LEVEL"], "warn");
    assert.equal(env.cluster["COACHWIRE_TRUSTED_CIDRS"], STACK_DEFAULTS.serverEnv["COACHWIRE_TRUSTED_CIDRS"]);
    assert.equal(stackEnvironment(options, {}, {}).cluster["COACHWIRE_DB_SCHEMA"], "coachwire");
    assert.deepEqual(env.overridden, []);
  });

  test("what the shape needs wins, and each replaced user value is reported with what to use instead", () => {
    const user = {
      COACHWIRE_WORKERS: "4",
      COACHWIRE_PORT_BASE: "9000",
      COACHWIRE_TRUST_PROXY: "false",
      COACHWIRE_HOST: "0.0.0.0",
      COACHWIRE_PORT: "7000",
      COACHWIRE_WORKER_METRICS_PORT: "9464",
      REDIS_URL: "redis://:hunter2@elsewhere:6379",
    };
    const env = stackEnvironment(options, {}, user);
    assert.equal(env.cluster["COACHWIRE_SERVER_PROCESSES"], "2");
    assert.equal(env.cluster["COACHWIRE_WORKERS"], undefined, "the deprecated name is not passed on beside the new one");
    assert.equal(env.cluster["COACHWIRE_PORT_BASE"], "8081");
    assert.equal(env.cluster["COACHWIRE_TRUST_PROXY"], "true");
    assert.equal(env.cluster["COACHWIRE_HOST"], options.host);
    assert.equal(env.cluster["COACHWIRE_PORT"], undefined);
    assert.equal(env.cluster["REDIS_URL"], options.redisUrl);
    assert.equal(env.jobWorker(9999)["COACHWIRE_WORKER_METRICS_PORT"], "9999");
    const said = env.overridden.join("\n");
    for (const name of ["COACHWIRE_WORKERS=4", "COACHWIRE_PORT_BASE=9000", "COACHWIRE_TRUST_PROXY=false", "COACHWIRE_HOST=0.0.0.0", "COACHWIRE_PORT=7000", "COACHWIRE_WORKER_METRICS_PORT=9464", "REDIS_URL="]) {
      assert.ok(said.includes(name), `the override of ${name} is reported:\n${said}`);
    }
    assert.match(said, /STACK_SERVERS/);
    assert.match(said, /STACK_PORT/);
    assert.doesNotMatch(said, /hunter2/, "a password in a URL is not printed");
  });

  test("the servers' start banner shows the balancer's address, not a server port; a user's COACHWIRE_PUBLIC_URL wins", () => {
    const env = stackEnvironment(options, {}, { COACHWIRE_DEMO_SEED: "true" });
    assert.equal(env.cluster["COACHWIRE_PUBLIC_URL"], `http://${options.host}:8080`);
    const config = loadConfig({ COACHWIRE_PUBLIC_URL: env.cluster["COACHWIRE_PUBLIC_URL"]!, COACHWIRE_DEMO_SEED: "true" });
    const banner = startBanner(config, "2 server processes on ports 8081, 8082", config.publicUrl ?? "unused");
    assert.match(banner, /listening on http:\/\/127\.0\.0\.1:8080 /);
    assert.match(banner, /curl -s -X POST http:\/\/127\.0\.0\.1:8080\/api\/auth\/login/);
    assert.doesNotMatch(banner, /http:\/\/[^ ]*:8081/);
    const theirs = stackEnvironment(options, {}, { COACHWIRE_PUBLIC_URL: "https://coach.example.org" });
    assert.equal(theirs.cluster["COACHWIRE_PUBLIC_URL"], "https://coach.example.org");
  });
});

describe("the cluster's start banner", () => {
  test("names COACHWIRE_PUBLIC_URL (the stack sets the balancer's) instead of the first server port", async () => {
    const portBase = await freePortRun(1);
    const lb = "http://127.0.0.1:18080";
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("COACHWIRE_") && k !== "DATABASE_URL" && k !== "REDIS_URL"));
    const child = spawn(process.execPath, ["--import", "tsx", "server/cluster.ts"], {
      cwd: new URL("..", import.meta.url).pathname,
      env: {
        ...env,
        COACHWIRE_SERVER_PROCESSES: "1",
        COACHWIRE_PORT_BASE: String(portBase),
        COACHWIRE_HOST: "127.0.0.1",
        COACHWIRE_DATA_DIR: "memory://",
        COACHWIRE_PUBLIC_URL: lb,
      },
    });
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          if (/curl[^\n]*\n[^\n]*password/.test(out)) resolve(out);
        });
        child.once("exit", (code) => reject(new Error(`the cluster exited (${code}):\n${out}`)));
      });
      assert.match(banner, new RegExp(`listening on ${lb} \\(1 server processes on ports ${portBase}\\)`));
      assert.match(banner, new RegExp(`curl -s -X POST ${lb}/api/auth/login`));
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  });
});
