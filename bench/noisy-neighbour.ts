import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { Db } from "../db/db.ts";
import { openDb } from "../db/open.ts";
import { CoachClient } from "../protocol/client.ts";
import { freePortRun } from "../server/stack.ts";
import { runFlood } from "./flood-runner.ts";
import type { FloodOutcome } from "./flood-proc.ts";
import { cpuSeconds, rssBytes } from "./proc-stats.ts";
import type { NoisyNeighbourScenario, NoisyPhase } from "./scenarios/noisy-neighbour.ts";
import { seedUsers, type BenchUser } from "./seed.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** One phase as measured. Latencies in ms. */
export interface PhaseResult {
  phase: NoisyPhase["name"];
  deliveries: number;
  delivery: { p50: number; p99: number; max: number };
  ackP99: number;
  sendErrors: number;
  /** CPU seconds the server process used during the measured phase, and its RSS at the end. */
  serverCpuSeconds: number;
  serverRssMiB: number;
  /** p99 over the mean p99 of the nearest no-flood phases before and after (1 for a no-flood phase). */
  ratio: number;
  floods: Array<{ kind: string; outcome: FloodOutcome }>;
}

export interface NoisyNeighbourReport {
  scenario: NoisyNeighbourScenario;
  startedAt: string;
  command: string;
  /** The machine's 1-minute load average when the run started and ended (the machine may be shared). */
  loadAverage: { start: number; end: number };
  phases: PhaseResult[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** One coachwire server process on 127.0.0.1 with its default limits, on PostgreSQL in schema `schema`, no Redis. */
async function startServer(databaseUrl: string, schema: string, secret: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePortRun(1);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("COACHWIRE_") && k !== "REDIS_URL"));
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...env,
      DATABASE_URL: databaseUrl,
      COACHWIRE_DB_SCHEMA: schema,
      COACHWIRE_HOST: "127.0.0.1",
      COACHWIRE_PORT: String(port),
      COACHWIRE_DEMO_SEED: "false",
      COACHWIRE_LOG_LEVEL: "warn",
      COACHWIRE_JWT_SECRET: secret,
      COACHWIRE_ACCESS_TOKEN_TTL_S: "86400",
      COACHWIRE_DRAIN_MS: "2000",
    },
  });
  // Whatever happens to the bench, the server does not outlive it.
  process.once("exit", () => child.kill("SIGKILL"));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!(await fetch(`${url}/readyz`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before it was ready`);
    if (Date.now() > deadline) throw new Error("the server was not ready within 60 s");
    await sleep(200);
  }
  return { url, child };
}

/** The floods of a phase, each in a process of its own, from addresses other than the room's (127.0.0.1). */
function startFloods(phase: NoisyPhase, url: string, flooder: BenchUser, forMs: number): Array<{ kind: string; done: Promise<FloodOutcome> }> {
  const floods: Array<{ kind: string; done: Promise<FloodOutcome> }> = [];
  const run = (kind: string, done: Promise<FloodOutcome>) => {
    // Awaited only after the phase: keep a failure from being an unhandled rejection meanwhile.
    done.catch(() => {});
    floods.push({ kind, done });
  };
  const nice = { nice: 19 };
  const sockets = "sockets" in phase ? phase.sockets : 0;
  const inFlight = "inFlight" in phase ? phase.inFlight : 0;
  const parallel = "parallel" in phase ? phase.parallel : 0;
  if (sockets > 0) {
    run("bad-connect", runFlood({ mode: "bad-connect", url, localAddress: "127.0.0.3", packets: 1_000_000, sockets, forMs }, nice));
  }
  if (inFlight > 0) {
    run("msg-flood", runFlood({ mode: "msg-flood", url, localAddress: "127.0.0.2", token: flooder.token, roomId: flooder.roomId, inFlight, maxMs: forMs, forMs }, nice));
  }
  if (parallel > 0) run("scrape", runFlood({ mode: "scrape", url: `${url}/metrics`, parallel, ms: forMs }, nice));
  return floods;
}

/**
 * Runs the scenario: seeds a room (and the flooder's own room), connects the room's members,
 * then for each phase starts its floods, waits `warmupMs`, measures `phaseSeconds` of the room's
 * chat (delivery: send call to each receiver's `event`, all in this process), and waits for the
 * floods to end.
 */
export async function runNoisyNeighbour(
  s: NoisyNeighbourScenario,
  o: { databaseUrl: string; command: string; log: (line: string) => void },
): Promise<NoisyNeighbourReport> {
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
  const schema = `bench_nn_${runId}`;
  const secret = randomBytes(36).toString("base64url");
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg()[0]!;
  o.log(`== noisy-neighbour: starting one server (schema ${schema}) …`);
  const server = await startServer(o.databaseUrl, schema, secret);
  let db: Db | undefined;
  const clients: CoachClient[] = [];
  try {
    db = await openDb({ url: o.databaseUrl, schema, poolSize: 2 });
    const users = await seedUsers(db, { users: 2 * s.roomSize, roomSize: s.roomSize, jwtSecret: secret, tokenTtlS: 86_400, runId });
    const members = users.slice(0, s.roomSize);
    // The second room's users flood, a fresh one each phase (an earlier one may be in its backoff).
    const flooders = users.slice(s.roomSize + 1);
    const roomId = members[0]!.roomId;

    let bucket: { latencies: number[]; acks: number[]; errors: number } | undefined;
    for (const member of members) {
      const client = new CoachClient({ url: server.url, tokens: { accessToken: member.token } });
      client.on("event", (event) => {
        const sentAt = Number(/^nn:(\d+(?:\.\d+)?)$/.exec((event.body as { text?: string }).text ?? "")?.[1]);
        if (bucket && Number.isFinite(sentAt) && event.senderId !== member.id) bucket.latencies.push(now() - sentAt);
      });
      await client.connect();
      await client.join(roomId);
      clients.push(client);
    }
    o.log(`== noisy-neighbour: ${clients.length} members connected and joined ${roomId}`);

    let chatting = true;
    const senders = clients.map(async (client) => {
      await sleep(Math.random() * s.sendIntervalMs);
      while (chatting) {
        const started = now();
        const target = bucket;
        try {
          await client.send(roomId, { text: `nn:${started}` });
          target?.acks.push(now() - started);
        } catch {
          if (target) target.errors++;
        }
        await sleep(s.sendIntervalMs * (0.5 + Math.random()));
      }
    });

    await sleep(s.settleMs);
    const phases: PhaseResult[] = [];
    for (const [i, phase] of s.phases.entries()) {
      const floodMs = s.warmupMs + s.phaseSeconds * 1000;
      const floods = startFloods(phase, server.url, flooders[i % flooders.length]!, floodMs);
      await sleep(s.warmupMs);
      const cpuBefore = cpuSeconds(server.child.pid!);
      bucket = { latencies: [], acks: [], errors: 0 };
      await sleep(s.phaseSeconds * 1000);
      const measured = bucket;
      bucket = undefined;
      const serverCpuSeconds = cpuSeconds(server.child.pid!) - cpuBefore;
      const serverRssMiB = rssBytes(server.child.pid!) / 2 ** 20;
      const outcomes = await Promise.all(floods.map(async (f) => ({ kind: f.kind, outcome: await f.done })));
      const latencies = measured.latencies.sort((a, b) => a - b);
      const acks = measured.acks.sort((a, b) => a - b);
      const p99 = quantile(latencies, 0.99);
      const result: PhaseResult = {
        phase: phase.name,
        deliveries: latencies.length,
        delivery: { p50: quantile(latencies, 0.5), p99, max: latencies[latencies.length - 1] ?? 0 },
        ackP99: quantile(acks, 0.99),
        sendErrors: measured.errors,
        serverCpuSeconds,
        serverRssMiB,
        ratio: 1,
        floods: outcomes,
      };
      phases.push(result);
      o.log(
        `== ${phase.name}: deliveries ${result.deliveries}, p50 ${result.delivery.p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ` +
          `ack p99 ${result.ackP99.toFixed(1)} ms, send errors ${result.sendErrors}, server CPU ${serverCpuSeconds.toFixed(2)} s, RSS ${serverRssMiB.toFixed(0)} MiB` +
          outcomes.map((f) => `; ${f.kind}: ${JSON.stringify(f.outcome)}`).join(""),
      );
      await sleep(s.pauseMs);
    }
    chatting = false;
    await Promise.all(senders);
    compareWithNeighbours(phases);
    return { scenario: s, startedAt, command: o.command, loadAverage: { start: loadAtStart, end: loadavg()[0]! }, phases };
  } finally {
    for (const c of clients) c.close();
    server.child.kill("SIGTERM");
    await new Promise((r) => (server.child.exitCode !== null ? r(null) : server.child.once("exit", r)));
    if (db) {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.close();
    }
  }
}

/** Sets each flood phase's ratio against the nearest no-flood phases before and after it. */
function compareWithNeighbours(phases: PhaseResult[]): void {
  const quiet = (p: PhaseResult) => p.floods.length === 0;
  for (const [i, phase] of phases.entries()) {
    if (quiet(phase)) continue;
    const before = phases.slice(0, i).reverse().find(quiet);
    const after = phases.slice(i + 1).find(quiet);
    const around = [before, after].filter((p): p is PhaseResult => p !== undefined).map((p) => p.delivery.p99);
    phase.ratio = around.length > 0 ? phase.delivery.p99 / (around.reduce((a, b) => a + b, 0) / around.length) : 1;
  }
}

/** The report as Markdown: the command, the machine note, one row per phase. */
export function noisyNeighbourMarkdown(report: NoisyNeighbourReport, machine: string): string {
  const s = report.scenario;
  const rows = report.phases.map((p) => {
    const flood = p.floods
      .map((f) => {
        const o = f.outcome;
        if (f.kind === "bad-connect") return `bad CONNECT: ${o.connections} connections let in and closed, ${o.refused} refused at the upgrade, ${o.answers} CONNECT_ERRORs for ${o.sent} packets`;
        if (f.kind === "msg-flood") return `msg:send flood: ${o.sent} sent, ${o.answers} answered, ${o.connections} connection(s), ${o.refused} handshakes refused, closed with ${JSON.stringify(o.notice ?? null)}`;
        return `scrapers: ${o.answers} scrapes answered (${(o.statuses ?? []).join(", ")})`;
      })
      .join("; ");
    return `| ${p.phase} | ${p.deliveries} | ${p.delivery.p50.toFixed(1)} | ${p.delivery.p99.toFixed(1)} | ${p.floods.length === 0 ? "—" : `${p.ratio.toFixed(2)}×`} | ${p.ackP99.toFixed(1)} | ${p.sendErrors} | ${p.serverCpuSeconds.toFixed(2)} | ${p.serverRssMiB.toFixed(0)} | ${flood || "—"} |`;
  });
  const worst = Math.max(...report.phases.filter((p) => p.floods.length > 0).map((p) => p.ratio));
  return [
    `# noisy-neighbour — ${report.startedAt.slice(0, 10)}`,
    "",
    "```",
    report.command,
    "```",
    "",
    `${s.description}. The room chats ${s.settleMs} ms unmeasured first; each phase: the flood runs ${s.warmupMs} ms before and during ${s.phaseSeconds} s of measurement. ` +
      "Delivery = from the sender's send call to each other member's `event` (all members in the bench process). " +
      `Machine: ${machine}; 1-minute load average ${report.loadAverage.start.toFixed(1)} at the start, ${report.loadAverage.end.toFixed(1)} at the end.`,
    "",
    "| phase | deliveries | p50 ms | p99 ms | p99 vs no flood around it | ack p99 ms | send errors | server CPU s | server RSS MiB | what the flood got |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `Target: every flood phase within ${s.targetRatio}× of the no-flood p99 around it. Worst: ${worst.toFixed(2)}× — ${worst <= s.targetRatio ? "met" : "NOT met"}.`,
    "",
  ].join("\n");
}
