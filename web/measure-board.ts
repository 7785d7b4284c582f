// Measures the coach's live board under load in Chromium: 500 assignees, 50 progress reports per
// second for 10 s (REST, from this process), while the page records frame intervals and long
// tasks. A measurement to report, not a test:
//   npm run build:web && node --import tsx web/measure-board.ts
import { CoachClient, login } from "../protocol/client.ts";
import { mintAccessToken } from "../test/support/cluster-stack.ts";
import { createRoom, createUser, type TestUser } from "../test/support/fixtures.ts";
import { DESKTOP, launchChromium, openPage, signIn } from "../test/support/browser.ts";
import { startWebApp } from "../test/support/web-app.ts";

const STUDENTS = 500;
const RATE = 50;
const SECONDS = 10;

const app = await startWebApp();
const browser = await launchChromium();
try {
  const coach = await createUser(app.db, "coach");
  const students: TestUser[] = [];
  for (let i = 0; i < STUDENTS; i++) students.push(await createUser(app.db, "student"));
  const roomId = await createRoom(app.db, [coach, ...students]);
  const sdk = new CoachClient({ url: app.url, tokens: await login(app.url, coach.email, coach.password) });
  await sdk.connect();
  await sdk.join(roomId);
  const { task } = await sdk.createTask({ roomId, title: "Yük testi", target: 1000 });
  sdk.close();
  const tokens = await Promise.all(students.map((s) => mintAccessToken(s)));

  const { page } = await openPage(browser, DESKTOP);
  await signIn(page, app.url, coach);
  await page.goto(`${app.url}/coach/tasks/${task.id}`);
  await page.locator(`.funnel-stage[data-stage="assigned"] .funnel-count[data-count="${STUDENTS}"]`).waitFor({ timeout: 60_000 });
  // A string, not a function: tsx would wrap named functions in a helper the page does not have.
  await page.evaluate(`
    window.__frames = [];
    window.__long = [];
    new PerformanceObserver((l) => l.getEntries().forEach((e) => window.__long.push(e.duration))).observe({ type: "longtask" });
    let last = performance.now();
    requestAnimationFrame(function tick(now) {
      window.__frames.push(now - last);
      last = now;
      requestAnimationFrame(tick);
    });
  `);

  let sent = 0;
  const started = Date.now();
  const pending: Promise<unknown>[] = [];
  for (let n = 0; n < RATE * SECONDS; n++) {
    const wait = started + (n * 1000) / RATE - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const i = n % STUDENTS;
    pending.push(
      fetch(`${app.url}/api/tasks/${task.id}/progress`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens[i]}`, "content-type": "application/json" },
        body: JSON.stringify({ opId: `load-${n}`, correct: 1 }),
      }).then((r) => r.ok && sent++),
    );
  }
  await Promise.all(pending);
  const lastSentAt = Date.now();
  await page.locator(`.funnel-stage[data-stage="started"] .funnel-count[data-count="${STUDENTS}"]`).waitFor({ timeout: 60_000 });
  // Every report is on the board once the total of correct answers matches.
  await page.waitForFunction(
    (want) => [...document.querySelectorAll('td[data-col="correct"]')].reduce((sum, td) => sum + Number(td.textContent!.replace(/\D/g, "")), 0) >= want,
    sent,
    { timeout: 60_000, polling: 50 },
  );
  const caughtUpMs = Date.now() - lastSentAt;
  const { frames, long } = await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __long: number[] };
    return { frames: w.__frames, long: w.__long };
  });
  const sorted = [...frames].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1);
  console.log(
    `board with ${STUDENTS} assignees, ${sent} reports at ${RATE}/s over ${SECONDS} s: frame interval p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms over ${frames.length} frames; ` +
      `${long.length} long tasks (max ${Math.round(Math.max(0, ...long))} ms); the board showed the last report ${caughtUpMs} ms after it was acknowledged`,
  );
} finally {
  await browser.close();
  await app.stop();
}
