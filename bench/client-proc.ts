import * as hdr from "hdr-histogram-js";
import { CoachClient } from "../protocol/client.ts";
import type { WireFormat } from "../protocol/parser.ts";
import { benchChatText, parseBenchChat } from "./chat-text.ts";
import { CoachingTraffic, noCoachingRecords, type CoachingRecords } from "./coaching-traffic.ts";
import { latencyHistogram as histogram } from "./percentiles.ts";
import { ResumeWatch, type StepRecord, type StormRecord } from "./resume-watch.ts";
import { hasCoaching, type Scenario } from "./scenarios/scenario.ts";
import type { BenchUser } from "./seed.ts";

/**
 * One bench client process: drives its share of the simulated users through the project's
 * own SDK (chat here; tasks, progress and read receipts in coaching-traffic.ts), measures
 * delivery (send → each receiver) and ack (send → ack) latency in HDR histograms, and records
 * what each user saw and every acknowledged call so the parent can audit it. Talks to
 * bench/run.ts over IPC (the messages below).
 */

export type ToClient =
  | { type: "start"; users: BenchUser[]; url: string; parser: WireFormat; scenario: Scenario; rampMs: number }
  /** The measured phase's traffic (chat, and tasks and read receipts when the scenario has them) on or off. */
  | { type: "traffic"; on: boolean }
  | { type: "rate"; perSecond: number }
  | { type: "storm"; windowMs: number }
  /** rolling-deploy: step `index` (0-based) begins (a server process is about to be drained), ending the one before. */
  | { type: "deploy-step"; index: number }
  /** rolling-deploy: the last step ends. */
  | { type: "deploy-end" }
  /** Wait until every request this process sent has been answered (or failed), then say "quiet". */
  | { type: "quiesce"; timeoutMs: number }
  | { type: "settle"; lastSeqs: Record<string, number>; timeoutMs: number };

export type FromClient =
  | {
      type: "progress";
      connected: number;
      failed: number;
      sends: number;
      acks: number;
      sendErrors: number;
      deliveries: number;
      delivery: string;
      ack: string;
      resumed: number;
      tasks: number;
      reports: number;
      reportErrors: number;
      coachingAck: string;
    }
  | { type: "quiet"; pending: number }
  | { type: "settled"; result: ClientResult };

/**
 * The `notice` events one user was handed (they count in the seq run like every event): the
 * seqs of those addressed to them in full, and how many others came redacted or in full. A
 * student must get other people's notices redacted; a coach gets every notice in full.
 */
export interface NoticeCopies {
  /** Seqs of notices addressed to this user, shown in full (a seq twice: delivered twice). */
  mine: number[];
  redacted: number;
  /** Notices addressed to someone else, shown in full. */
  othersInFull: number;
}

/** What one user saw of their room: enough to prove no gap, no duplicate, nothing missing. */
export interface UserAudit {
  userId: string;
  role: BenchUser["role"];
  roomId: string;
  /** The room's last seq when the join answered. */
  joinedAt: number;
  first: number | null;
  last: number | null;
  count: number;
  gaps: number;
  duplicates: number;
  notices: NoticeCopies;
}

export interface ClientResult {
  connected: number;
  failed: number;
  sends: number;
  sendErrors: number;
  /** Events delivered to users other than their sender (chat and coaching). */
  deliveries: number;
  /** Encoded HDR histograms, microseconds: chat delivery, chat ack, and task:create/seen/progress ack. */
  delivery: string;
  ack: string;
  coachingAck: string;
  /** Every acknowledged send: [roomId, senderId, clientId, seq] (a clientId is its sender's own). */
  acked: Array<[string, string, string, number]>;
  /** Every task, progress report, seen mark and read receipt, with its answer. */
  coaching: CoachingRecords;
  audit: UserAudit[];
  /** storm: ms from the storm's start until each user had rejoined and received what it missed. */
  resumeMs: number[];
  /** storm: when users went away and came back, and the live deliveries once back. */
  storm: StormRecord;
  /** rolling-deploy: each step's moved users, their way back, and the deliveries to those not moved. */
  deploySteps: StepRecord[];
}

const now = () => performance.timeOrigin + performance.now();
/** To the parent; once the parent has closed the channel (the run is over) there is no one to tell. */
const send = (msg: FromClient) => {
  if (process.connected) process.send!(msg, undefined, undefined, () => {});
};
// A send racing the parent's disconnect fails with EPIPE: the run is over, nothing to report.
process.on("error", () => {});

interface Sim {
  user: BenchUser;
  client: CoachClient;
  audit: UserAudit;
  connected: boolean;
  timer: NodeJS.Timeout | undefined;
}

const sims: Sim[] = [];
let failed = 0;
let sends = 0;
let sendErrors = 0;
let acks = 0;
let deliveries = 0;
let trafficOn = false;
const acked: Array<[string, string, string, number]> = [];
const deliveryAll = histogram();
const ackAll = histogram();
let deliveryInterval = histogram();
let ackInterval = histogram();
let scenario: Scenario;
let traffic: CoachingTraffic | undefined;
let inFlight = 0;
const watch = new ResumeWatch();

/** Counts a request as in flight until it settles, so that a quiesce can wait for it. */
async function track<T>(request: Promise<T>): Promise<T> {
  inFlight++;
  try {
    return await request;
  } finally {
    inFlight--;
  }
}

async function connect(user: BenchUser, url: string, parser: WireFormat): Promise<void> {
  const client = new CoachClient({ url, tokens: { accessToken: user.token }, parser, ackTimeoutMs: 10_000, sendDeadlineMs: 120_000 });
  const sim: Sim = {
    user,
    client,
    connected: false,
    timer: undefined,
    audit: {
      userId: user.id,
      role: user.role,
      roomId: user.roomId,
      joinedAt: 0,
      first: null,
      last: null,
      count: 0,
      gaps: 0,
      duplicates: 0,
      notices: { mine: [], redacted: 0, othersInFull: 0 },
    },
  };
  // Every kind of room event (chat, task.created, task.progress, notice — a redacted copy as
  // much as a full one) goes through this one check: a user's delivered seqs must run without
  // gap or repeat. Notices are also recorded by audience, for bench/notice-audit.ts.
  client.on("event", (event) => {
    const a = sim.audit;
    if (a.last !== null && event.seq !== a.last + 1) {
      if (event.seq <= a.last) a.duplicates++;
      else a.gaps++;
    }
    a.first ??= event.seq;
    a.last = event.seq;
    a.count++;
    if (event.kind === "notice") {
      const body = event.body as { userId?: string; redacted?: boolean };
      if (body.redacted) a.notices.redacted++;
      else if (body.userId === user.id) a.notices.mine.push(event.seq);
      else a.notices.othersInFull++;
    }
    if (event.senderId === user.id) return;
    deliveries++;
    const chat = event.kind === "chat" ? parseBenchChat((event.body as { text?: string }).text ?? "") : undefined;
    if (chat) {
      const micros = Math.max(1, Math.round((now() - chat.sentAt) * 1000));
      deliveryAll.recordValue(micros);
      deliveryInterval.recordValue(micros);
      watch.delivered(sim, micros, chat.senderConnected);
    }
  });
  traffic?.attach(sim);
  watch.attach(sim);
  client.on("connected", () => (sim.connected = true));
  client.on("disconnected", () => (sim.connected = false));
  try {
    await client.connect();
    const joined = await client.join(user.roomId);
    sim.audit.joinedAt = joined.lastSeq;
    sims.push(sim);
  } catch {
    failed++;
    client.close();
  }
}

async function sendOne(sim: Sim): Promise<void> {
  sends++;
  const started = now();
  try {
    const clientId = crypto.randomUUID();
    const res = await track(sim.client.send(sim.user.roomId, { text: benchChatText(started, sim.client.socket.connected) }, clientId));
    const micros = Math.max(1, Math.round((now() - started) * 1000));
    ackAll.recordValue(micros);
    ackInterval.recordValue(micros);
    acks++;
    acked.push([sim.user.roomId, sim.user.id, clientId, res.seq]);
  } catch {
    sendErrors++;
  }
}

/** Poisson chat: each user's next message after an exponential wait, typing shortly before. */
function scheduleChat(sim: Sim): void {
  const wait = -Math.log(1 - Math.random()) * scenario.meanSendIntervalSeconds * 1000;
  sim.timer = setTimeout(() => {
    if (!trafficOn) return;
    const lead = scenario.typingLeadMs;
    if (lead > 0) sim.client.typing(sim.user.roomId);
    setTimeout(() => {
      if (trafficOn) void sendOne(sim);
      scheduleChat(sim);
    }, lead);
  }, wait);
}

let rateTimer: NodeJS.Timeout | undefined;
/**
 * saturation, coaching-saturation: a fixed total rate for this process, ticked every 10 ms —
 * chat sends from random users, or progress reports from random students.
 */
function setRate(perSecond: number): void {
  clearInterval(rateTimer);
  const fire = scenario.steps?.load === "progress" ? () => traffic!.reportOne() : () => void sendOne(sims[Math.floor(Math.random() * sims.length)]!);
  let owed = 0;
  rateTimer = setInterval(() => {
    owed += perSecond / 100;
    for (; owed >= 1 && sims.length > 0; owed--) fire();
  }, 10);
}

function reconnectSome(): void {
  const share = scenario.reconnectsPerMinute / 60;
  for (const sim of sims) if (Math.random() < share) sim.client.socket.io.engine?.close();
}

function storm(windowMs: number): void {
  watch.stormBegins();
  for (const sim of sims) {
    setTimeout(() => {
      watch.stormDrops(sim);
      sim.connected = false;
      sim.client.socket.io.engine?.close();
    }, Math.random() * windowMs);
  }
}

async function quiesce(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  send({ type: "quiet", pending: inFlight });
}

async function settle(lastSeqs: Record<string, number>, timeoutMs: number): Promise<void> {
  clearInterval(rateTimer);
  trafficOn = false;
  traffic?.stop();
  watch.endStep();
  const deadline = Date.now() + timeoutMs;
  const caughtUp = (s: Sim) => s.connected && (s.client.cursor(s.user.roomId) ?? 0) >= (lastSeqs[s.user.roomId] ?? 0);
  while (!sims.every(caughtUp) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const s of sims) {
    clearTimeout(s.timer);
    s.client.close();
  }
  const stormRecord = watch.stormRecord();
  const started = stormRecord.startedAt;
  send({
    type: "settled",
    result: {
      connected: sims.length,
      failed,
      sends,
      sendErrors,
      deliveries,
      delivery: hdr.encodeIntoCompressedBase64(deliveryAll),
      ack: hdr.encodeIntoCompressedBase64(ackAll),
      coachingAck: traffic?.ackHistogram() ?? hdr.encodeIntoCompressedBase64(histogram()),
      acked,
      coaching: traffic?.records() ?? noCoachingRecords(),
      audit: sims.map((s) => s.audit),
      resumeMs: started === null ? [] : stormRecord.resumedAt.map((at) => at - started),
      storm: stormRecord,
      deploySteps: watch.stepRecords(),
    },
  });
}

process.on("message", (msg: ToClient) => {
  switch (msg.type) {
    case "start": {
      scenario = msg.scenario;
      if (hasCoaching(scenario)) traffic = new CoachingTraffic(scenario, { track, isOn: () => trafficOn });
      const gap = msg.users.length > 0 ? msg.rampMs / msg.users.length : 0;
      msg.users.forEach((u, i) => setTimeout(() => void connect(u, msg.url, msg.parser), i * gap));
      break;
    }
    case "traffic":
      trafficOn = msg.on;
      if (trafficOn && scenario.meanSendIntervalSeconds > 0) for (const sim of sims) scheduleChat(sim);
      if (trafficOn) traffic?.start(sims);
      else traffic?.stop();
      break;
    case "quiesce":
      void quiesce(msg.timeoutMs);
      break;
    case "rate":
      setRate(msg.perSecond);
      break;
    case "storm":
      storm(msg.windowMs);
      break;
    case "deploy-step":
      watch.beginStep(msg.index);
      break;
    case "deploy-end":
      watch.endStep();
      break;
    case "settle":
      void settle(msg.lastSeqs, msg.timeoutMs);
      break;
  }
});

// Progress once a second: counts and this interval's histograms (for the over-time charts).
const progress = setInterval(() => {
  if (scenario?.reconnectsPerMinute > 0 && trafficOn) reconnectSome();
  send({
    type: "progress",
    connected: sims.filter((s) => s.connected).length,
    failed,
    sends,
    acks,
    sendErrors,
    deliveries,
    delivery: hdr.encodeIntoCompressedBase64(deliveryInterval),
    ack: hdr.encodeIntoCompressedBase64(ackInterval),
    resumed: watch.stormResumes,
    ...(traffic?.counts() ?? { tasks: 0, reports: 0, reportErrors: 0 }),
    coachingAck: traffic?.takeInterval() ?? hdr.encodeIntoCompressedBase64(histogram()),
  });
  deliveryInterval = histogram();
  ackInterval = histogram();
}, 1000);
process.on("disconnect", () => {
  clearInterval(progress);
  process.exit(0);
});
