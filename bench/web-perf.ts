// The web app's two performance claims, measured in Debian's Chromium (playwright-core) against
// server/main.ts on PostgreSQL, and written to a report. A measurement, not a test: nothing here
// passes or fails on a time.
//   npm run build:web && npm run bench:web [-- --report bench/reports/<name>.md]
// (a) a room with 5,000 chat events: open it, scroll to the very top (history pages load on the
//     way), then back down; long tasks (PerformanceObserver 'longtask') and frame intervals (rAF).
// (b) the coach's board with 500 assignees while 50 progress reports a second arrive for 20 s;
//     the same figures, and whether the board's final numbers equal the server's board.
import { cpus, loadavg, totalmem } from "node:os";
import { writeFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { CoachClient, login } from "../protocol/client.ts";
import { mintAccessToken } from "../test/support/cluster-stack.ts";
import { createRoom, createUser, type TestUser } from "../test/support/fixtures.ts";
import { DESKTOP, launchChromium, openPage, signIn } from "../test/support/browser.ts";
import { startWebApp, type WebApp } from "../test/support/web-app.ts";

const EVENTS = 5000;
const STUDENTS = 500;
const RATE = 50;
const SECONDS = 20;
const argReport = process.argv.indexOf("--report");
const REPORT = argReport > 0 ? process.argv[argReport + 1]! : "bench/reports/2026-12-02-web-perf.md";

/** Where the main thread's CPU time went (Chromium's Performance domain, thread time, seconds): script, style, layout, everything. */
interface Breakdown {
  script: number;
  style: number;
  layout: number;
  task: number;
}

async function mainThread(page: Page): Promise<() => Promise<Breakdown>> {
  const cdp = await page.context().newCDPSession(page);
  // Thread time, not wall time: on a shared machine a descheduled main thread is not the page's cost.
  await cdp.send("Performance.enable", { timeDomain: "threadTicks" });
  const read = async () => {
    const { metrics } = await cdp.send("Performance.getMetrics");
    const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
    return { script: m["ScriptDuration"] ?? 0, style: m["RecalcStyleDuration"] ?? 0, layout: m["LayoutDuration"] ?? 0, task: m["TaskDuration"] ?? 0 };
  };
  const before = await read();
  return async () => {
    const after = await read();
    return { script: after.script - before.script, style: after.style - before.style, layout: after.layout - before.layout, task: after.task - before.task };
  };
}

const breakdown = (b: Breakdown) =>
  `main-thread CPU time ${b.task.toFixed(1)} s: script ${b.script.toFixed(1)} s, style ${b.style.toFixed(1)} s, layout ${b.layout.toFixed(1)} s, the rest (paint, compositing, parsing, GC) ${(b.task - b.script - b.style - b.layout).toFixed(1)} s`;

interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Frames that took longer than 50 ms (three or more missed 60 Hz frames). */
  over50: number;
  longTasks: number;
  longMax: number;
  longTotal: number;
}

// Strings, not functions: tsx would wrap named functions in a helper the page does not have.
const START_RECORDING = `
  window.__frames = [];
  window.__long = [];
  window.__rec = true;
  window.__obs?.disconnect();
  window.__obs = new PerformanceObserver((l) => l.getEntries().forEach((e) => window.__long.push(e.duration)));
  window.__obs.observe({ type: "longtask" });
  let last = performance.now();
  requestAnimationFrame(function tick(now) {
    if (!window.__rec) return;
    window.__frames.push(now - last);
    last = now;
    requestAnimationFrame(tick);
  });
`;

async function stopRecording(page: Page): Promise<FrameStats> {
  const { frames, long } = (await page.evaluate(`(() => { window.__rec = false; window.__obs.disconnect(); return { frames: window.__frames, long: window.__long }; })()`)) as {
    frames: number[];
    long: number[];
  };
  const sorted = [...frames].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return {
    frames: frames.length,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    max: q(1),
    over50: frames.filter((f) => f > 50).length,
    longTasks: long.length,
    longMax: Math.max(0, ...long),
    longTotal: long.reduce((a, b) => a + b, 0),
  };
}

const ms = (x: number) => `${x.toFixed(1)} ms`;
const row = (label: string, s: FrameStats, wallMs: number) =>
  `| ${label} | ${(wallMs / 1000).toFixed(1)} s | ${s.frames} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${s.over50} | ${s.longTasks} | ${ms(s.longMax)} | ${ms(s.longTotal)} |`;
const HEAD =
  "| phase | wall time | frames | frame p50 | p95 | p99 | max | frames > 50 ms | long tasks | longest | long tasks total |\n|---|---|---|---|---|---|---|---|---|---|---|";

async function bigRoom(app: WebApp, page: Page, coach: TestUser, student: TestUser) {
  const roomId = await createRoom(app.db, [coach, student]);
  const sdk = new CoachClient({ url: app.url, tokens: await login(app.url, coach.email, coach.password) });
  const seedStarted = Date.now();
  try {
    await sdk.connect();
    await sdk.join(roomId);
    for (let i = 0; i < EVENTS; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => sdk.send(roomId, { text: `m-${i + j + 1} ${"lorem ipsum dolor ".repeat(1 + ((i + j) % 5))}` })));
    }
  } finally {
    sdk.close();
  }
  const seedMs = Date.now() - seedStarted;

  const openStarted = Date.now();
  await page.goto(`${app.url}/rooms/${roomId}`);
  await page.locator(".msg-text", { hasText: new RegExp(`^m-${EVENTS} `) }).waitFor({ timeout: 60_000 });
  const openMs = Date.now() - openStarted;

  // Up: a fast flick every frame (400 px), through every history page, until m-1 is on screen.
  await page.evaluate(START_RECORDING);
  const upCpu = await mainThread(page);
  const upStarted = Date.now();
  await page.evaluate(`new Promise((resolve) => {
    const el = document.querySelector(".vlist");
    const step = () => {
      const first = el.querySelector(".vlist-item .msg-text");
      if (el.scrollTop === 0 && first && /^m-1 /.test(first.textContent)) return resolve(null);
      el.scrollTop = Math.max(0, el.scrollTop - 400);
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  })`);
  const upMs = Date.now() - upStarted;
  const up = await stopRecording(page);
  const upBusy = await upCpu();
  const rendered = await page.locator(".vlist-item").count();

  // Down: the same flick speed through all 5,000 (everything is loaded now).
  await page.evaluate(START_RECORDING);
  const downCpu = await mainThread(page);
  const downStarted = Date.now();
  await page.evaluate(`new Promise((resolve) => {
    const el = document.querySelector(".vlist");
    const step = () => {
      if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) return resolve(null);
      el.scrollTop = el.scrollTop + 400;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  })`);
  const downMs = Date.now() - downStarted;
  const down = await stopRecording(page);
  const downBusy = await downCpu();
  const texts = await page.locator(".vlist .msg .msg-text").allInnerTexts();
  const last = texts.at(-1)?.split(" ")[0];
  return { seedMs, openMs, up, upMs, upBusy, down, downMs, downBusy, rendered, last };
}

interface BoardNumbers {
  funnel: Record<string, number>;
  rows: Record<string, { solved: number; correct: number; state: string }>;
}

async function busyBoard(app: WebApp, page: Page, coach: TestUser) {
  const students: TestUser[] = [];
  for (let i = 0; i < STUDENTS; i++) students.push(await createUser(app.db, "student"));
  const roomId = await createRoom(app.db, [coach, ...students]);
  const coachTokens = await login(app.url, coach.email, coach.password);
  const sdk = new CoachClient({ url: app.url, tokens: coachTokens });
  await sdk.connect();
  await sdk.join(roomId);
  const { task } = await sdk.createTask({ roomId, title: "Yük testi", target: 1000 });
  sdk.close();
  const tokens = await Promise.all(students.map((s) => mintAccessToken(s)));

  await page.goto(`${app.url}/coach/tasks/${task.id}`);
  await page.locator(`.funnel-stage[data-stage="assigned"] .funnel-count[data-count="${STUDENTS}"]`).waitFor({ timeout: 60_000 });
  await page.evaluate(START_RECORDING);
  const cpu = await mainThread(page);

  let acked = 0;
  let refused = 0;
  const started = Date.now();
  const pending: Promise<unknown>[] = [];
  for (let n = 0; n < RATE * SECONDS; n++) {
    const wait = started + (n * 1000) / RATE - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const i = (n * 7) % STUDENTS; // spread over the table, not top to bottom
    pending.push(
      fetch(`${app.url}/api/tasks/${task.id}/progress`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens[i]}`, "content-type": "application/json" },
        body: JSON.stringify({ opId: `load-${n}`, correct: 1 + (n % 3), wrong: n % 2 }),
      }).then((r) => (r.ok ? acked++ : refused++)),
    );
  }
  await Promise.all(pending);
  const sendMs = Date.now() - started;
  const lastAckedAt = Date.now();

  // The server's board, then wait until the page shows the same numbers (or give up after 30 s).
  const server = (await (await fetch(`${app.url}/api/tasks/${task.id}/board`, { headers: { authorization: `Bearer ${coachTokens.accessToken}` } })).json()) as {
    board: { funnel: Record<string, number>; rows: { userId: string; solved: number; correct: number; state: string }[] };
  };
  const want: BoardNumbers = {
    funnel: Object.fromEntries(["assigned", "delivered", "seen", "started", "done"].map((k) => [k, server.board.funnel[k]!])),
    rows: Object.fromEntries(server.board.rows.map((r) => [r.userId, { solved: r.solved, correct: r.correct, state: r.state }])),
  };
  const readPage = () =>
    page.evaluate(`(() => {
      const funnel = {};
      for (const el of document.querySelectorAll(".funnel-stage")) funnel[el.dataset.stage] = Number(el.querySelector(".funnel-count").dataset.count);
      const rows = {};
      for (const tr of document.querySelectorAll("tr[data-user]")) {
        const n = (col) => Number(tr.querySelector('td[data-col="' + col + '"]').textContent.split("/")[0].replace(/\\D/g, ""));
        rows[tr.dataset.user] = { solved: n("solved"), correct: n("correct"), state: tr.dataset.state };
      }
      return { funnel, rows };
    })()`) as Promise<BoardNumbers>;
  const same = (got: BoardNumbers) =>
    Object.entries(want.funnel).every(([k, v]) => got.funnel[k] === v) &&
    Object.keys(want.rows).length === Object.keys(got.rows).length &&
    Object.entries(want.rows).every(([id, r]) => got.rows[id]?.solved === r.solved && got.rows[id]?.correct === r.correct && got.rows[id]?.state === r.state);
  let got = await readPage();
  while (!same(got) && Date.now() - lastAckedAt < 30_000) {
    await new Promise((r) => setTimeout(r, 50));
    got = await readPage();
  }
  const caughtUpMs = Date.now() - lastAckedAt;
  const stats = await stopRecording(page);
  const busy = await cpu();
  const mismatched = Object.entries(want.rows).filter(([id, r]) => got.rows[id]?.solved !== r.solved || got.rows[id]?.correct !== r.correct).length;
  return { stats, busy, sendMs, acked, refused, equal: same(got), caughtUpMs, want, got, mismatched };
}

const app = await startWebApp({ COACHWIRE_ACCESS_TOKEN_TTL_S: "3600" });
const browser = await launchChromium();
try {
  const coach = await createUser(app.db, "coach");
  const student = await createUser(app.db, "student");
  const { page } = await openPage(browser, DESKTOP);
  page.setDefaultTimeout(60_000);
  await signIn(page, app.url, coach);
  const chromium = browser.version();

  const load = () => loadavg()[0]!.toFixed(1);
  if (process.env["WEB_PERF_ONLY"] === "board") {
    // Just (b), printed, no report: for comparing two builds of the board back to back.
    const before = load();
    const b = await busyBoard(app, page, coach);
    console.log(`${HEAD}\n${row("500-row board under 50 reports/s", b.stats, b.sendMs + b.caughtUpMs)}\n${breakdown(b.busy)}; equal to the server: ${b.equal}; load ${before} → ${load()}`);
  } else {
    console.log(`(a) seeding ${EVENTS} events and scrolling…`);
    const loadA = [load()];
    const a = await bigRoom(app, page, coach, student);
    loadA.push(load());
    console.log(`(b) ${STUDENTS} assignees, ${RATE} reports/s for ${SECONDS} s…`);
    const loadB = [load()];
    const b = await busyBoard(app, page, coach);
    loadB.push(load());

    const report = `# Web app performance, ${new Date().toISOString().slice(0, 10)}

Measured with \`npm run build:web && npm run bench:web\` (\`bench/web-perf.ts\`): Chromium ${chromium}
(Debian's, headless, \`--disable-gpu\`) driven by playwright-core at 1280×800, against
\`server/main.ts\` on PostgreSQL 15 (one process), on this machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"},
${Math.round(totalmem() / 2 ** 30)} GiB, shared with other work, so the figures are an order of magnitude, not a benchmark
to compare to the millisecond. Frame intervals are the time between \`requestAnimationFrame\`
callbacks (16.7 ms is every frame at 60 Hz); long tasks are what Chromium's \`PerformanceObserver
('longtask')\` reports (main-thread tasks over 50 ms).

## (a) A room with ${EVENTS.toLocaleString("en")} chat events

Seeded through the SDK in ${(a.seedMs / 1000).toFixed(1)} s. Opening the room showed the newest message after
${a.openMs} ms. Then a 400 px scroll every frame: up to the very first message (the history pages load
on the way; the list keeps the reader's place as each page lands on top), then down through all of
it to the last (${a.last}). ${a.rendered} list items were in the DOM at the top, for ${EVENTS.toLocaleString("en")} events.
Load average (1 min) before and after: ${loadA.join(" → ")}.

${HEAD}
${row("scroll up, paging history", a.up, a.upMs)}
${row("scroll down, all loaded", a.down, a.downMs)}

Up: ${breakdown(a.upBusy)}. Down: ${breakdown(a.downBusy)}.

## (b) The coach's board: ${STUDENTS} assignees, ${RATE} reports/s for ${SECONDS} s

${b.acked} reports acknowledged (${b.refused} refused) over ${(b.sendMs / 1000).toFixed(1)} s, each a REST
\`POST /api/tasks/:taskId/progress\` from this process with the student's own token; the page got
them over its socket as \`task.progress\` events. The board's numbers equalled the server's
\`GET /api/tasks/:taskId/board\` ${b.equal ? `(funnel and every row's solved, correct and state) ${b.caughtUpMs} ms after the last report was acknowledged` : `**not** within 30 s (${b.mismatched} rows differ)`}.

${HEAD}
${row("500-row board under 50 reports/s", b.stats, b.sendMs + b.caughtUpMs)}

${breakdown(b.busy)}.

Load average (1 min) before and after: ${loadB.join(" → ")}.

Final funnel, server: \`${JSON.stringify(b.want.funnel)}\`; page: \`${JSON.stringify(b.got.funnel)}\`.
`;
    writeFileSync(REPORT, report);
    console.log(report);
    console.log(`written to ${REPORT}`);
  }
} finally {
  await browser.close();
  await app.stop();
}
