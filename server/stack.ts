import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { envSettings } from "./config.ts";

/**
 * The deployment shape on one machine, natively (no Docker engine needed): HAProxy processes
 * sharing one listening port in front of a cluster of server processes, plus job worker
 * processes (`worker/main.ts`: reminders, nudges, overdue notices, digests), on local
 * PostgreSQL and Redis. `npm run stack` runs it until Ctrl-C; tests call {@link startStack}.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface StackOptions {
  /** Server processes (COACHWIRE_SERVER_PROCESSES). */
  workers: number;
  /** HAProxy processes sharing the port. */
  balancers: number;
  host: string;
  lbPort: number;
  /** Stats page of balancer i on statsPortBase + i. */
  statsPortBase: number;
  /** Server process i on portBase + i. */
  portBase: number;
  databaseUrl: string;
  redisUrl: string;
  /**
   * Environment for the server processes and job workers (COACHWIRE_* settings). In
   * STACK_DEFAULTS these are defaults under the user's own COACHWIRE_* variables; given to
   * startStack (tests, the bench) they win over the user's. See {@link stackEnvironment}.
   */
  serverEnv: Record<string, string>;
  /** Source ranges exempt from HAProxy's per-IP limits. */
  lbTrusted: string[];
  /** Where child output goes; "inherit" for a terminal, "ignore" for tests. */
  stdio: "inherit" | "ignore";
  /** The cluster entry point, relative to the repository (the bench swaps in its reference server). */
  clusterEntry: string;
  /** Extra node flags for the cluster and its workers (which inherit them), e.g. --cpu-prof. Not given to job workers. */
  nodeArgs: string[];
  /**
   * Job worker processes (`npm run worker`), started once the servers are ready. Left out, it is
   * 1 with coachwire's own cluster entry and 0 with another (the bench's reference stores nothing
   * and plans no jobs).
   */
  jobWorkers: number;
  /** Job worker i serves /metrics and /healthz on jobWorkerPortBase + i; 0 finds a run of free ports. */
  jobWorkerPortBase: number;
}

export interface Stack {
  lbUrl: string;
  statsUrls: string[];
  serverUrls: string[];
  /** Where job worker i serves /metrics and /healthz. */
  jobWorkerUrls: string[];
  cluster: ChildProcess;
  balancers: ChildProcess[];
  jobWorkers: ChildProcess[];
  /** Stops the balancers, then drains and stops the cluster and the job workers (SIGTERM: running jobs finish or go back to the queue). */
  stop(): Promise<void>;
}

export const STACK_DEFAULTS: StackOptions = {
  workers: 2,
  balancers: 2,
  host: "127.0.0.1",
  lbPort: 8080,
  statsPortBase: 8404,
  portBase: 8081,
  databaseUrl: "postgres://postgres@127.0.0.1:5432/postgres",
  redisUrl: "redis://127.0.0.1:6379",
  serverEnv: {
    COACHWIRE_DB_SCHEMA: "coachwire",
    COACHWIRE_TRUSTED_CIDRS: "127.0.0.0/8,::1/128",
    // HAProxy checks every 1 s and needs 2 failures: wait that long before moving clients.
    COACHWIRE_DRAIN_LB_WAIT_MS: "2500",
  },
  lbTrusted: ["127.0.0.0/8", "::1/128"],
  stdio: "inherit",
  clusterEntry: "server/cluster.ts",
  nodeArgs: [],
  jobWorkers: 1,
  jobWorkerPortBase: 0,
};

const handedOut = new Set<number>();

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** The first of `count` consecutive free loopback ports in 20000–60000, none handed out before by this process. */
export async function freePortRun(count = 1): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * (40_000 - count));
    const run = Array.from({ length: count }, (_, i) => first + i);
    if (run.some((p) => handedOut.has(p))) continue;
    if ((await Promise.all(run.map(portIsFree))).every(Boolean)) {
      run.forEach((p) => handedOut.add(p));
      return first;
    }
  }
  throw new Error(`no run of ${count} free ports found`);
}

/** True when an `haproxy` binary answers. */
export function haproxyInstalled(): boolean {
  return spawnSync("haproxy", ["-v"], { stdio: "ignore" }).status === 0;
}

/**
 * New connections per second one balancer passes on (haproxy.cfg's `rate-limit sessions`): what
 * the server processes behind it admit together (COACHWIRE_ADMIT_RATE_PER_S each, as the servers
 * read it), shared among the balancers, which split the clients between them.
 */
export function balancerSessionRate(serverEnv: NodeJS.ProcessEnv, servers: number, balancers: number): number {
  const fallback = envSettings().find((setting) => setting.name === "COACHWIRE_ADMIT_RATE_PER_S")!.default;
  const perServer = Number(serverEnv["COACHWIRE_ADMIT_RATE_PER_S"] || fallback);
  return Math.max(1, Math.ceil((perServer * servers) / balancers));
}

/** haproxy.cfg with its server block rewritten for `workers` processes. */
export function haproxyConfig(workers: number): string {
  const template = readFileSync(join(ROOT, "haproxy.cfg"), "utf8");
  const servers = Array.from({ length: workers }, (_, i) => `    server app${i + 1} "\${CW_APP${i + 1}}" check cookie app${i + 1}`);
  return template.replace(/( *# servers:begin[^\n]*\n)[\s\S]*?( *# servers:end)/, (_, begin: string, end: string) => `${begin}${servers.join("\n")}\n${end}`);
}

async function waitForOk(url: string, what: string, child: ChildProcess, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before ${url} answered`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what}: ${url} did not answer 200 within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", () => r()));
}

/** The environments of the stack's children, and the user's settings the stack replaced. */
export interface StackEnvironment {
  cluster: NodeJS.ProcessEnv;
  jobWorker(metricsPort: number): NodeJS.ProcessEnv;
  overridden: string[];
}

/**
 * What the stack's children run with, lowest first: the user's environment (every COACHWIRE_*
 * variable passes through) over the stack's defaults (STACK_DEFAULTS.serverEnv), then the
 * `serverEnv` a caller gives, then what the stack must set for its shape to work: the database,
 * Redis and host it was given, the server processes' count and ports (the balancers' config
 * names them), and that a proxy is in front. A user value replaced by one of those is
 * reported in `overridden`, saying which STACK_* variable to use instead.
 */
export function stackEnvironment(o: StackOptions, given: Record<string, string>, userEnv: NodeJS.ProcessEnv): StackEnvironment {
  const overridden: string[] = [];
  const shown = (value: string) => value.replace(/\/\/[^@/]*@/, "//(credentials hidden)@");
  const must = (name: string, value: string, instead: string): [string, string] => {
    const theirs = userEnv[name];
    if (theirs !== undefined && theirs !== "" && theirs !== value) overridden.push(`${name}=${shown(theirs)} is replaced by ${shown(value)}: ${instead}`);
    return [name, value];
  };
  const base = { ...STACK_DEFAULTS.serverEnv, ...userEnv, ...given };
  const shared = Object.fromEntries([
    must("DATABASE_URL", o.databaseUrl, "the stack's database (set DATABASE_URL for `npm run stack` itself)"),
    must("REDIS_URL", o.redisUrl, "the stack's Redis (set REDIS_URL for `npm run stack` itself)"),
    must("COACHWIRE_HOST", o.host, "the balancers reach the servers there"),
  ]);
  const cluster = Object.fromEntries([
    must("COACHWIRE_SERVER_PROCESSES", String(o.workers), "the balancers are configured for that many server processes (set STACK_SERVERS)"),
    must("COACHWIRE_PORT_BASE", String(o.portBase), "the balancers are configured for those ports"),
    must("COACHWIRE_TRUST_PROXY", "true", "HAProxy is in front and appends X-Forwarded-For"),
  ]);
  if (userEnv["COACHWIRE_WORKER_METRICS_PORT"] && o.jobWorkers > 0) {
    overridden.push(`COACHWIRE_WORKER_METRICS_PORT=${userEnv["COACHWIRE_WORKER_METRICS_PORT"]} is replaced: each job worker gets a free port of its own (printed below)`);
  }
  if (userEnv["COACHWIRE_PORT"]) overridden.push(`COACHWIRE_PORT=${userEnv["COACHWIRE_PORT"]} is ignored: server process i listens on ${o.portBase} + i; STACK_PORT sets the balancers' port`);
  if (userEnv["COACHWIRE_WORKERS"]) {
    overridden.push(`COACHWIRE_WORKERS=${userEnv["COACHWIRE_WORKERS"]} is replaced by COACHWIRE_SERVER_PROCESSES=${o.workers}: the balancers are configured for that many server processes (set STACK_SERVERS)`);
  }
  const { COACHWIRE_PORT: _port, COACHWIRE_WORKERS: _deprecated, ...withoutPort } = base;
  return {
    cluster: { COACHWIRE_PUBLIC_URL: `http://${o.host}:${o.lbPort}`, ...withoutPort, ...shared, ...cluster },
    jobWorker: (metricsPort) => ({ ...withoutPort, ...shared, COACHWIRE_WORKER_METRICS_PORT: String(metricsPort) }),
    overridden,
  };
}

/** Starts the cluster, the job workers and the balancers; resolves once HAProxy routes /readyz to a server. */
export async function startStack(overrides: Partial<StackOptions> = {}): Promise<Stack> {
  const o = { ...STACK_DEFAULTS, ...overrides };
  const env = stackEnvironment(o, overrides.serverEnv ?? {}, process.env);
  const jobWorkerCount = overrides.jobWorkers ?? (o.clusterEntry === STACK_DEFAULTS.clusterEntry ? STACK_DEFAULTS.jobWorkers : 0);
  if (!haproxyInstalled()) throw new Error("HAProxy is not installed. On Debian/Ubuntu: apt-get install -y haproxy");
  const serverUrls = Array.from({ length: o.workers }, (_, i) => `http://${o.host}:${o.portBase + i}`);
  const jobWorkerPortBase = jobWorkerCount === 0 ? 0 : o.jobWorkerPortBase || (await freePortRun(jobWorkerCount));
  const jobWorkerUrls = Array.from({ length: jobWorkerCount }, (_, i) => `http://${o.host}:${jobWorkerPortBase + i}`);
  const cluster = spawn(process.execPath, [...o.nodeArgs, "--import", "tsx", join(ROOT, o.clusterEntry)], {
    cwd: ROOT,
    stdio: o.stdio,
    env: env.cluster,
  });
  const balancers: ChildProcess[] = [];
  const jobWorkers: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), "coachwire-stack-"));
  const stop = async () => {
    for (const b of balancers) b.kill("SIGUSR1"); // soft stop: finish the sessions they hold
    cluster.kill("SIGTERM");
    for (const w of jobWorkers) w.kill("SIGTERM"); // running jobs finish (or go back to the queue)
    await Promise.race([Promise.all([cluster, ...jobWorkers].map(exited)), new Promise((r) => setTimeout(r, 30_000).unref())]);
    cluster.kill("SIGKILL");
    for (const w of jobWorkers) w.kill("SIGKILL");
    for (const b of balancers) b.kill("SIGKILL");
    await Promise.all([cluster, ...jobWorkers, ...balancers].map(exited));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const url of serverUrls) await waitForOk(`${url}/readyz`, "the cluster", cluster);
    // After the servers: their primary has migrated the schema the workers open.
    for (const [i, url] of jobWorkerUrls.entries()) {
      const jobWorker = spawn(process.execPath, ["--import", "tsx", join(ROOT, "worker/main.ts")], {
        cwd: ROOT,
        stdio: o.stdio,
        env: env.jobWorker(jobWorkerPortBase + i),
      });
      jobWorkers.push(jobWorker);
      await waitForOk(`${url}/healthz`, `job worker ${i + 1}`, jobWorker);
    }
    const configPath = join(dir, "haproxy.cfg");
    writeFileSync(configPath, haproxyConfig(o.workers));
    for (let i = 0; i < o.balancers; i++) {
      const lbEnv: NodeJS.ProcessEnv = {
        ...process.env,
        CW_LB_BIND: `${o.host}:${o.lbPort}`,
        CW_LB_STATS_BIND: `${o.host}:${o.statsPortBase + i}`,
        CW_LB_TRUSTED: o.lbTrusted.join(" "),
        CW_LB_SESSION_RATE: String(balancerSessionRate(env.cluster, o.workers, o.balancers)),
      };
      serverUrls.forEach((url, n) => (lbEnv[`CW_APP${n + 1}`] = url.replace("http://", "")));
      const balancer = spawn("haproxy", ["-db", "-f", configPath], { stdio: o.stdio, env: lbEnv });
      balancers.push(balancer);
      await waitForOk(`http://${o.host}:${o.statsPortBase + i}/stats`, `HAProxy ${i + 1}`, balancer, 15_000);
    }
    await waitForOk(`http://${o.host}:${o.lbPort}/readyz`, "HAProxy", balancers[0]!, 15_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    lbUrl: `http://${o.host}:${o.lbPort}`,
    statsUrls: balancers.map((_, i) => `http://${o.host}:${o.statsPortBase + i}/stats`),
    serverUrls,
    jobWorkerUrls,
    cluster,
    balancers,
    jobWorkers,
    stop,
  };
}

/** `npm run stack`: its shape comes from STACK_* variables; COACHWIRE_* variables pass through to the servers and job workers. */
async function main(): Promise<void> {
  const env = process.env;
  const num = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  const options: Partial<StackOptions> = {
    // STACK_WORKERS: the deprecated name (a worker is a job worker: STACK_JOB_WORKERS).
    workers: num("STACK_SERVERS", num("STACK_WORKERS", STACK_DEFAULTS.workers)),
    balancers: num("STACK_BALANCERS", STACK_DEFAULTS.balancers),
    lbPort: num("STACK_PORT", STACK_DEFAULTS.lbPort),
    jobWorkers: num("STACK_JOB_WORKERS", STACK_DEFAULTS.jobWorkers),
    databaseUrl: env["DATABASE_URL"] ?? STACK_DEFAULTS.databaseUrl,
    redisUrl: env["REDIS_URL"] ?? STACK_DEFAULTS.redisUrl,
  };
  const passed = Object.keys(env).filter((k) => k.startsWith("COACHWIRE_")).sort();
  if (passed.length > 0) process.stdout.write(`coachwire stack: passing your settings to the servers and job workers: ${passed.join(", ")}\n`);
  for (const line of stackEnvironment({ ...STACK_DEFAULTS, ...options }, {}, env).overridden) {
    process.stderr.write(`coachwire stack: ${line}\n`);
  }
  const stack = await startStack(options);
  process.stdout.write(
    [
      "",
      `coachwire stack is up: ${stack.balancers.length} HAProxy processes → ${stack.serverUrls.length} server processes, ${stack.jobWorkerUrls.length} job worker(s)`,
      `  clients connect to  ${stack.lbUrl}`,
      ...stack.statsUrls.map((u, i) => `  HAProxy ${i + 1} stats   ${u}`),
      ...stack.serverUrls.map((u, i) => `  server ${i + 1} metrics  ${u}/metrics`),
      ...stack.jobWorkerUrls.map((u, i) => `  worker ${i + 1} metrics  ${u}/metrics`),
      "Ctrl-C stops everything.",
      "",
    ].join("\n") + "\n",
  );
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void stack.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  stack.cluster.once("exit", (code) => {
    if (stopping) return;
    process.stderr.write(`the cluster exited (${code}); stopping\n`);
    onSignal();
  });
  // Nothing restarts a job worker, and without one no notice goes out: stop loudly instead.
  stack.jobWorkers.forEach((w, i) =>
    w.once("exit", (code) => {
      if (stopping) return;
      process.stderr.write(`job worker ${i + 1} exited (${code}); stopping\n`);
      onSignal();
    }),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: Error) => {
    process.stderr.write(`coachwire stack: ${err.message}\n`);
    process.exit(1);
  });
}
