import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { collectDefaultMetrics, Registry } from "prom-client";
import { parse } from "yaml";
import { loadConfig } from "../server/config.ts";
import { haproxyInstalled } from "../server/stack.ts";
import { REQUIRE_SERVICES } from "./support/databases.ts";

// The deployment files (docker-compose.yml, Dockerfile, deploy/) checked against what the
// server really reads and exports: no Docker engine is needed. HAProxy and promtool, when
// installed, check their own files.

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  deploy?: { replicas?: number };
  environment?: Record<string, string | number | boolean | null> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  ports?: unknown[];
  container_name?: string;
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}
interface AlertRule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Panel {
  type: string;
  id: number;
  title: string;
  datasource?: { uid?: string };
  targets?: Array<{ expr: string; datasource?: { uid?: string } }>;
  fieldConfig?: {
    defaults?: {
      thresholds?: { steps: Array<{ value: number | null }> };
      custom?: { thresholdsStyle?: { mode: string } };
    };
  };
}

const compose = parse(read("docker-compose.yml")) as Compose;
const dockerfile = read("Dockerfile");
const dockerCfg = read("deploy/haproxy/haproxy.docker.cfg");
const rootCfg = read("haproxy.cfg");
const prometheus = parse(read("deploy/prometheus/prometheus.yml")) as {
  rule_files: string[];
  scrape_configs: Array<{
    job_name: string;
    static_configs?: Array<{ targets: string[] }>;
    dns_sd_configs?: Array<{ names: string[]; port: number }>;
  }>;
};
const alerts = (parse(read("deploy/prometheus/alerts.yml")) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(read("deploy/grafana/dashboards/coachwire.json")) as {
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown }> };
};
const queryPanels = dashboard.panels.filter((p) => p.type !== "row");
const queries = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

/** The alerts asked for, each with the seed guide's threshold and the metric it is about. */
const EXPECTED_ALERTS: Record<string, { threshold: number; metric: string }> = {
  CoachwireAckLatencyHigh: { threshold: 0.5, metric: "coachwire_ack_latency_seconds_bucket" },
  CoachwireErrorRateHigh: { threshold: 0.01, metric: "coachwire_requests_failed_total" },
  CoachwireDbPoolSaturated: { threshold: 0.8, metric: "coachwire_db_pool_connections" },
  RedisMemoryHigh: { threshold: 0.7, metric: "redis_memory_used_bytes" },
  HostCpuHigh: { threshold: 0.8, metric: "node_cpu_seconds_total" },
  HostMemoryHigh: { threshold: 0.85, metric: "node_memory_MemAvailable_bytes" },
  CoachwireJobsFailing: { threshold: 0.1, metric: "coachwire_jobs_failed_total" },
};

/** Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` against `env` (no other forms are used). */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string) => {
    const set = env[name] !== undefined && (env[name] !== "" || !op?.startsWith(":"));
    if (set) return env[name]!;
    if (op?.endsWith("?")) throw new Error(`${name}: ${arg}`);
    return op ? arg : "";
  });
}

function serviceEnv(service: ComposeService, env: Record<string, string>): Record<string, string> {
  const entries = Array.isArray(service.environment)
    ? service.environment.map((e) => e.split(/=(.*)/s) as [string, string])
    : Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v ?? "")] as [string, string]);
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v, env)]));
}

/** ENV instructions of the Dockerfile (KEY=value form, continuation lines joined). */
function dockerfileEnv(): Record<string, string> {
  const joined = dockerfile.replace(/\\\n/g, " ");
  const env: Record<string, string> = {};
  for (const [, args] of joined.matchAll(/^ENV\s+(.+)$/gm)) {
    for (const [, k, v] of args!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) env[k!] = v!.replace(/^"|"$/g, "");
  }
  return env;
}

function dependsOn(service: ComposeService): Array<[string, string]> {
  const deps = service.depends_on ?? [];
  return Array.isArray(deps) ? deps.map((d) => [d, "service_started"]) : Object.entries(deps).map(([d, o]) => [d, o.condition ?? "service_started"]);
}

/** True when server/config.ts knows `name` (an unknown COACHWIRE_* name stops start-up). */
function knownSetting(name: string): boolean {
  try {
    loadConfig({ [name]: "x" });
    return true;
  } catch (err) {
    return !(err as Error).message.includes(`${name} is not a known setting`);
  }
}

/** Metric base names as exported: a histogram's _bucket/_sum/_count series map to its name. */
function exported(name: string, known: ReadonlySet<string>): boolean {
  return known.has(name) || known.has(name.replace(/_(bucket|sum|count)$/, ""));
}
const metricNames = (file: string) => [...read(file).matchAll(/name: "(coachwire_[a-z0-9_]+)"/g)].map((m) => m[1]!);
/** What the server processes and the job workers export. */
const coachwireMetrics = new Set([...metricNames("server/metrics/metrics.ts"), ...metricNames("worker/worker-metrics.ts")]);
const metricsIn = (exprs: string[], prefix: RegExp) => [...new Set(exprs.flatMap((e) => e.match(prefix) ?? []))];

const secret = { COACHWIRE_JWT_SECRET: "a-deployment-secret-of-at-least-32-characters" };
const appEnv = () => ({ ...dockerfileEnv(), ...serviceEnv(compose.services["app"]!, secret) });
const workerEnv = () => ({ ...dockerfileEnv(), ...serviceEnv(compose.services["worker"]!, secret) });
/** The Prometheus job that discovers a compose service's containers by DNS. */
const dnsJob = (service: string) => prometheus.scrape_configs.find((j) => j.dns_sd_configs?.some((d) => d.names.includes(service)));

describe("docker-compose.yml", () => {
  test("runs the whole shape, with the app scalable", () => {
    const names = Object.keys(compose.services);
    for (const name of ["postgres", "redis", "app", "worker", "haproxy", "prometheus", "grafana", "redis-exporter", "node-exporter"]) {
      assert.ok(names.includes(name), `service ${name} is missing (have ${names.join(", ")})`);
    }
    const app = compose.services["app"]!;
    assert.ok(app.build, "app is built from the Dockerfile");
    assert.ok((app.deploy?.replicas ?? 1) >= 2, "app runs at least two replicas");
    assert.equal(app.container_name, undefined, "a fixed container name would stop scaling");
    assert.equal(app.ports, undefined, "published app ports would clash between replicas; clients go through HAProxy");
    assert.match(compose.services["postgres"]!.image ?? "", /^postgres:/);
    assert.match(compose.services["redis"]!.image ?? "", /^redis:/);
    assert.match(compose.services["haproxy"]!.image ?? "", /^haproxy:2\./);
  });

  test("depends_on names real services, and waits for health only where a health check exists", () => {
    const dockerfileHealth = /^HEALTHCHECK\s+.*CMD/m.test(dockerfile.replace(/\\\n/g, " "));
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [dep, condition] of dependsOn(service)) {
        const target = compose.services[dep];
        assert.ok(target, `${name} depends on ${dep}, which is not a service`);
        if (condition !== "service_healthy") continue;
        const hasCheck = (target.healthcheck?.test !== undefined && !target.healthcheck.disable) || (target.build !== undefined && dockerfileHealth);
        assert.ok(hasCheck, `${name} waits for ${dep} to be healthy, but ${dep} has no health check`);
      }
    }
    for (const name of ["postgres", "redis", "app", "worker"]) assert.ok(compose.services[name]!.healthcheck?.test, `${name} has a health check`);
  });

  test("named volumes are declared and bind-mounted files exist", () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = new Set<string>();
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === "string" ? volume.split(":")[0]! : (volume.source ?? "");
        if (source.startsWith("./")) assert.ok(existsSync(join(ROOT, source)), `${name} mounts ${source}, which does not exist`);
        else if (!source.startsWith("/")) {
          assert.ok(declared.includes(source), `${name} uses volume ${source}, not declared under volumes:`);
          used.add(source);
        }
      }
    }
    for (const name of ["postgres", "redis", "prometheus", "grafana"]) {
      assert.ok((compose.services[name]!.volumes ?? []).length > 0, `${name} keeps its data or config in a volume`);
    }
    assert.deepEqual(declared.filter((v) => !used.has(v)), [], "every declared volume is used");
  });

  test("every COACHWIRE_* name in docker-compose.yml and the Dockerfile is a setting server/config.ts knows", () => {
    assert.equal(knownSetting("COACHWIRE_NOT_A_SETTING"), false, "the check itself recognises an unknown name");
    const text = read("docker-compose.yml") + "\n" + dockerfile;
    const names = [...new Set([...text.matchAll(/COACHWIRE_[A-Z0-9_]+/g)].map((m) => m[0]))];
    assert.ok(names.length >= 5, `found ${names.join(", ")}`);
    assert.deepEqual(names.filter((n) => !knownSetting(n)), [], "unknown settings stop start-up");
  });

  test("the app's environment loads, and it listens where HAProxy and the health checks look, with metrics where Prometheus looks", () => {
    assert.throws(() => serviceEnv(compose.services["app"]!, {}), /COACHWIRE_JWT_SECRET/, "the secret is required, not defaulted");
    const config = loadConfig(appEnv());
    assert.equal(config.env, "production");
    assert.equal(config.cluster.serverProcesses, 1, "one process per container; containers scale");
    assert.equal(config.limits.trustProxy, true, "behind HAProxy the client IP comes from X-Forwarded-For");
    assert.match(config.db.url ?? "", /@postgres:5432\//);
    assert.match(config.redis.url ?? "", /^redis:\/\/redis:6379/);
    // cluster.ts gives its server i the port COACHWIRE_PORT_BASE + i; with one server, the base.
    const port = config.cluster.portBase;
    assert.match(dockerCfg, new RegExp(`^\\s*server-template\\s+\\S+\\s+\\S+\\s+app:${port}\\s`, "m"));
    // Metrics on a port of their own (one server per container: the base), which HAProxy does not forward.
    const metricsPort = config.metricsAccess.port;
    assert.ok(metricsPort !== undefined && metricsPort !== port, `COACHWIRE_METRICS_PORT (${metricsPort}) is set apart from the clients' port`);
    assert.equal(dnsJob("app")?.dns_sd_configs?.[0]?.port, metricsPort, "Prometheus scrapes every app container on its metrics port");
    assert.doesNotMatch(dockerCfg, new RegExp(`app:${metricsPort}\\b`), "HAProxy never routes to the metrics port");
    for (const cfg of [dockerCfg, rootCfg]) assert.match(cfg, /^\s*http-request deny deny_status 404 if \{ path_beg \/metrics \}/m, "the balancer refuses /metrics to clients");
    assert.ok(JSON.stringify(compose.services["app"]!.healthcheck?.test).includes(`:${port}/readyz`));
    assert.match(dockerfile, new RegExp(`^EXPOSE\\s+.*\\b${port}\\b`, "m"));
  });

  test("the worker runs `npm run worker` from the app's image, on the app's database and Redis, once the app has migrated", () => {
    const worker = compose.services["worker"]!;
    const app = compose.services["app"]!;
    assert.equal(worker.image, app.image, "the same image as the app");
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    assert.deepEqual(worker.command, scripts["worker"]!.split(" "), "the command is `npm run worker`'s");
    assert.equal(worker.container_name, undefined, "a fixed container name would stop scaling");
    assert.equal(worker.ports, undefined, "published ports would clash between replicas; Prometheus reaches them inside");
    const deps = Object.fromEntries(dependsOn(worker));
    assert.deepEqual([deps["postgres"], deps["redis"], deps["app"]], ["service_healthy", "service_healthy", "service_healthy"], "waits for the app's migrations");

    assert.throws(() => serviceEnv(worker, {}), /COACHWIRE_JWT_SECRET/, "production refuses to start without the secret");
    const config = loadConfig(workerEnv());
    const appConfig = loadConfig(appEnv());
    assert.equal(config.env, "production");
    assert.equal(config.db.url, appConfig.db.url, "the app's database");
    assert.deepEqual(config.redis, appConfig.redis, "the app's Redis and key prefix (where the app queues the jobs)");
    const port = config.jobs.metricsPort;
    assert.equal(dnsJob("worker")?.dns_sd_configs?.[0]?.port, port, "Prometheus scrapes every worker container on its metrics port");
    const check = JSON.stringify(worker.healthcheck?.test);
    assert.ok(check.includes(`:${port}/healthz`), `the health check asks the worker's /healthz, not the image's /readyz: ${check}`);
  });
});

describe("Dockerfile", () => {
  test("builds from node:20-bookworm-slim with npm ci, runs the cluster as a non-root user, checks /readyz", () => {
    assert.match(dockerfile, /^FROM node:20-bookworm-slim\b/m);
    assert.match(dockerfile, /^RUN npm ci\b/m);
    assert.match(dockerfile, /^CMD \["node", "--import", "tsx", "server\/cluster\.ts"\]/m);
    const user = dockerfile.match(/^USER\s+(\S+)/m)?.[1];
    assert.ok(user && user !== "root" && user !== "0", `runs as ${user}`);
    assert.match(dockerfile.replace(/\\\n/g, " "), /^HEALTHCHECK\s.*\/readyz/m);
    const ignored = read(".dockerignore").split("\n").map((l) => l.trim());
    for (const path of ["node_modules", ".git", "data"]) assert.ok(ignored.includes(path), `.dockerignore leaves out ${path}`);
  });
});

describe("Prometheus files", () => {
  test("scrape the app, the worker, HAProxy, redis-exporter and node-exporter by service name, and load the alerts", () => {
    for (const file of prometheus.rule_files) assert.ok(existsSync(join(ROOT, "deploy/prometheus", file)), `rule file ${file}`);
    assert.ok(prometheus.rule_files.includes("alerts.yml"));
    const hosts = prometheus.scrape_configs.flatMap((j) => [
      ...(j.static_configs ?? []).flatMap((s) => s.targets.map((t) => t.split(":")[0]!)),
      ...(j.dns_sd_configs ?? []).flatMap((d) => d.names),
    ]);
    for (const host of ["app", "worker", "haproxy", "redis-exporter", "node-exporter"]) assert.ok(hosts.includes(host), `scrapes ${host}`);
    for (const host of hosts.filter((h) => h !== "localhost")) assert.ok(compose.services[host], `${host} is a docker-compose service`);
    // HAProxy serves its exporter on the stats port Prometheus scrapes.
    const haproxyTarget = prometheus.scrape_configs
      .flatMap((j) => (j.static_configs ?? []).flatMap((s) => s.targets))
      .find((t) => t.startsWith("haproxy:"));
    assert.match(dockerCfg, new RegExp(`bind :${haproxyTarget?.split(":")[1]}\\n(\\s+#.*\\n)*\\s+http-request use-service prometheus-exporter`));
  });

  test("alerts.yml has the expected alerts with their thresholds", () => {
    assert.deepEqual(alerts.map((r) => r.alert).sort(), Object.keys(EXPECTED_ALERTS).sort());
    for (const rule of alerts) {
      const expected = EXPECTED_ALERTS[rule.alert!]!;
      const threshold = rule.expr.trim().match(/>\s*([0-9.]+)$/)?.[1];
      assert.equal(Number(threshold), expected.threshold, `${rule.alert}: ${rule.expr}`);
      assert.ok(rule.expr.includes(expected.metric), `${rule.alert} is about ${expected.metric}`);
      assert.match(rule.for ?? "", /^\d+[smh]$/, `${rule.alert} has a for:`);
      assert.ok(["warning", "critical"].includes(rule.labels?.["severity"] ?? ""), `${rule.alert} has a severity`);
      assert.ok(rule.annotations?.["summary"] && rule.annotations["description"], `${rule.alert} has a summary and description`);
    }
    const byName = (name: string) => alerts.find((r) => r.alert === name)!.expr;
    assert.match(byName("CoachwireAckLatencyHigh"), /histogram_quantile\(0\.95,/);
    assert.match(byName("CoachwireErrorRateHigh"), /coachwire_requests_failed_total.*\/.*coachwire_events_in_total/s);
    assert.match(byName("RedisMemoryHigh"), /redis_memory_max_bytes > 0/, "guards a Redis without maxmemory");
    assert.match(byName("CoachwireJobsFailing"), /coachwire_jobs_completed_total\[\w+\]\)\) or vector\(0\)/, "fires when no job completes at all");
    const unknown = metricsIn(alerts.map((r) => r.expr), /coachwire_[a-z0-9_]+/g).filter((m) => !exported(m, coachwireMetrics));
    assert.deepEqual(unknown, [], "alerts query only metrics the server and the worker export");
  });

  test("promtool accepts the config and the rules", (t) => {
    // Not a service the suites need, so missing promtool is a skip even with TEST_REQUIRE_SERVICES=1.
    if (spawnSync("promtool", ["--version"], { stdio: "ignore" }).status !== 0) {
      return t.skip("promtool is not installed (Debian: apt-get install prometheus)");
    }
    const result = spawnSync("promtool", ["check", "config", "deploy/prometheus/prometheus.yml"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});

describe("Grafana files", () => {
  test("the provisioned data source and dashboard folder match docker-compose.yml", () => {
    const ds = (parse(read("deploy/grafana/provisioning/datasources/prometheus.yml")) as { datasources: Array<{ type: string; url: string }> })
      .datasources;
    assert.ok(ds.some((d) => d.type === "prometheus" && d.url === "http://prometheus:9090"));
    const providers = (parse(read("deploy/grafana/provisioning/dashboards/dashboards.yml")) as { providers: Array<{ options: { path: string } }> })
      .providers;
    const mounts = (compose.services["grafana"]!.volumes ?? []).filter((v): v is string => typeof v === "string");
    const dashboardsMount = mounts.find((v) => v.startsWith("./deploy/grafana/dashboards:"))?.split(":")[1];
    assert.ok(dashboardsMount && providers.some((p) => p.options.path === dashboardsMount), `provider path is the mount ${dashboardsMount}`);
    assert.ok(mounts.some((v) => v.startsWith("./deploy/grafana/provisioning:/etc/grafana/provisioning")));
  });

  test("the dashboard is a Grafana JSON model whose panels all query Prometheus", () => {
    assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
    assert.ok(dashboard.templating.list.some((v) => v.name === "datasource" && v.type === "datasource" && v.query === "prometheus"));
    for (const panel of queryPanels) {
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has queries`);
      assert.equal(panel.datasource?.uid, "${datasource}", `${panel.title} uses the data source variable`);
    }
    const jobs = new Set(prometheus.scrape_configs.map((j) => j.job_name));
    const named = [...new Set(queries.flatMap((q) => [...q.matchAll(/\bjob="([^"]+)"/g)].map((m) => m[1]!)))];
    assert.deepEqual(named.filter((j) => !jobs.has(j)), [], "every job=\"…\" is a Prometheus scrape job");
  });

  test("shows the job workers: queue depth by state, and jobs completed and failed", () => {
    const panelOf = (what: string, match: (expr: string) => boolean) => {
      const panel = queryPanels.find((p) => (p.targets ?? []).some((t) => match(t.expr)));
      assert.ok(panel, `no panel shows ${what}`);
      return panel;
    };
    const workerJob = dnsJob("worker")!.job_name;
    const depth = panelOf("coachwire_queue_jobs by state", (e) => /\bby \(state\) \(coachwire_queue_jobs\{/.test(e));
    assert.ok(depth.targets!.every((t) => t.expr.includes(`job="${workerJob}"`)), "queue depth from the worker job");
    const rates = panelOf("job rates", (e) => e.includes("rate(coachwire_jobs_completed_total"));
    assert.ok(rates.targets!.some((t) => t.expr.includes("rate(coachwire_jobs_failed_total")), "completed and failed side by side");
  });

  test("every coachwire_ metric it queries is exported by server/metrics/metrics.ts or worker/worker-metrics.ts", () => {
    assert.ok(coachwireMetrics.size >= 10, `found ${[...coachwireMetrics].join(", ")}`);
    const queried = metricsIn(queries, /coachwire_[a-z0-9_]+/g);
    assert.deepEqual(queried.filter((m) => !exported(m, coachwireMetrics)), []);
    for (const wanted of [
      "coachwire_connections",
      "coachwire_events_in_total",
      "coachwire_events_out_total",
      "coachwire_requests_failed_total",
      "coachwire_redis_errors_total",
      "coachwire_db_pool_connections",
    ]) {
      assert.ok(queried.includes(wanted), `shows ${wanted}`);
    }
    const histograms = [
      "coachwire_ack_latency_seconds",
      "coachwire_fanout_latency_seconds",
      "coachwire_persister_batch_size",
      "coachwire_persister_flush_seconds",
    ];
    for (const histogram of histograms) {
      assert.ok(queried.some((m) => m.startsWith(histogram)), `shows ${histogram}`);
    }
  });

  test("every nodejs_/process_ metric it queries is one of prom-client's default metrics", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const defaults = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const queried = metricsIn(queries, /\b(?:nodejs|process)_[a-z0-9_]+/g);
    for (const wanted of ["nodejs_eventloop_lag_p99_seconds", "process_resident_memory_bytes"]) {
      assert.ok(queried.includes(wanted), `shows ${wanted}`);
    }
    assert.deepEqual(queried.filter((m) => !exported(m, defaults)), []);
  });

  test("each alert's threshold is drawn as a line on a panel of the same metric", () => {
    for (const [name, { threshold, metric }] of Object.entries(EXPECTED_ALERTS)) {
      const panel = queryPanels.find(
        (p) =>
          (p.targets ?? []).some((t) => t.expr.includes(metric)) &&
          (p.fieldConfig?.defaults?.thresholds?.steps ?? []).some((s) => s.value === threshold) &&
          (p.fieldConfig?.defaults?.custom?.thresholdsStyle?.mode ?? "off") !== "off",
      );
      assert.ok(panel, `no panel shows ${metric} with a ${threshold} threshold line (alert ${name})`);
    }
  });
});

describe("HAProxy configurations", () => {
  test("the Docker one keeps the root haproxy.cfg's policies and finds the app by Docker's DNS", () => {
    const policy = rootCfg
      .split("\n")
      .map((l) => l.replace(/#.*/, "").trim())
      .filter((l) => /^(balance|option|timeout|http-check|default-server|retries|stick-table|tcp-request|http-request|acl)\b/.test(l));
    assert.ok(policy.length >= 20, `found ${policy.length} policy lines`);
    const docker = new Set(dockerCfg.split("\n").map((l) => l.replace(/#.*/, "").trim()));
    assert.deepEqual(policy.filter((l) => !docker.has(l)), [], "every policy line of haproxy.cfg is in haproxy.docker.cfg");
    assert.match(dockerCfg, /^\s*cookie cwsrv insert indirect nocache httponly dynamic$/m);
    assert.match(dockerCfg, /^\s*nameserver \S+ 127\.0\.0\.11:53$/m);
    assert.match(dockerCfg, /^\s*server-template app \d+-\d+ app:\d+ check resolvers docker init-addr libc,none\b/m);
  });

  const haproxyCheck = (file: string, env: Record<string, string>) => (t: { skip(message: string): void }) => {
    if (!haproxyInstalled()) {
      if (REQUIRE_SERVICES) assert.fail("HAProxy is required (TEST_REQUIRE_SERVICES=1); on Debian: apt-get install -y haproxy");
      return t.skip("HAProxy is not installed");
    }
    const result = spawnSync("haproxy", ["-c", "-f", file], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8", timeout: 30_000 });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  };

  test(
    "haproxy -c accepts haproxy.cfg",
    haproxyCheck("haproxy.cfg", {
      CW_LB_BIND: "127.0.0.1:8080",
      CW_LB_STATS_BIND: "127.0.0.1:8404",
      CW_LB_TRUSTED: "127.0.0.1/32",
      CW_LB_SESSION_RATE: "1000",
      CW_APP1: "127.0.0.1:8081",
      CW_APP2: "127.0.0.1:8082",
    }),
  );

  test(
    "haproxy -c accepts deploy/haproxy/haproxy.docker.cfg",
    // With the environment docker-compose.yml gives the haproxy service (its defaults).
    haproxyCheck("deploy/haproxy/haproxy.docker.cfg", serviceEnv(compose.services["haproxy"]!, {})),
  );
});
