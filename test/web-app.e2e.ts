import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { CoachClient, login } from "../protocol/client.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { captureScreen, DESKTOP, launchChromium, openPage, PHONE, signIn } from "./support/browser.ts";
import { missingBrowserServices, startWebApp, type WebApp } from "./support/web-app.ts";

// The web app end to end: Debian's Chromium (playwright-core) against server/main.ts on real
// PostgreSQL, several browser profiles at once. Every screen is checked with axe (no serious or
// critical violation) and photographed at phone and desktop size into web/screenshots/.

const skip = await missingBrowserServices();
const XSS_ROOM = `11-A <img src=x onerror="window.__xss='room'"> Matematik`;
const XSS_CHAT = `<img src=x onerror="window.__xss='chat'">bak`;
const XSS_TASK = `Paragraf <script>window.__xss='task'</script>`;
const ROOM = "11-A Matematik";
const TASK = "40 türev sorusu";

/** axe and a picture at phone and desktop size (support/browser.ts). */
const capture = captureScreen;

/** The chat texts a page shows, in order. */
const chatTexts = (page: Page) => page.locator(".vlist .msg .msg-text").allInnerTexts();

async function until(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("web app in Chromium", { skip }, () => {
  let app: WebApp;
  let browser: Browser;
  let coach: TestUser, s1: TestUser, s2: TestUser;
  let roomId: string;
  let xssRoomId: string;
  let taskId: string;
  const pages: Record<"coach" | "s1" | "s2", { page: Page; errors: string[] }> = {} as never;

  before(async () => {
    // Short-lived access tokens, so the silent refresh (and the socket's token-expired reconnect) happen during the suite.
    app = await startWebApp({ COACHWIRE_ACCESS_TOKEN_TTL_S: "20" });
    [coach, s1, s2] = [await createUser(app.db, "coach"), await createUser(app.db, "student"), await createUser(app.db, "student")];
    for (const [user, name] of [
      [coach, "Ayşe Koç"],
      [s1, "Deniz Yılmaz"],
      [s2, "Emre Demir"],
    ] as const) {
      await app.db.query("UPDATE users SET display_name = $2 WHERE id = $1", [user.id, name]);
    }
    roomId = await createRoom(app.db, [coach, s1, s2]);
    await app.db.query("UPDATE rooms SET name = $2 WHERE id = $1", [roomId, ROOM]);
    xssRoomId = await createRoom(app.db, [coach, s1]);
    await app.db.query("UPDATE rooms SET name = $2 WHERE id = $1", [xssRoomId, XSS_ROOM]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  test("a wrong password is refused with a message; the right one signs in", async () => {
    const { page, errors } = await openPage(browser, PHONE);
    await page.goto(`${app.url}/`);
    await capture(page, "signin");
    await page.getByLabel("E-posta").fill(s1.email);
    await page.getByLabel("Parola").fill("not-the-password");
    await page.getByRole("button", { name: "Giriş yap" }).click();
    await page.getByRole("alert").filter({ hasText: "E-posta veya parola yanlış." }).waitFor();
    await capture(page, "signin-wrong-password");
    assert.equal(await page.getByRole("heading", { name: "Odalar" }).count(), 0);
    await page.getByLabel("Parola").fill(s1.password);
    await page.getByRole("button", { name: "Giriş yap" }).click();
    await page.getByRole("heading", { level: 1, name: "Odalar" }).waitFor();
    // No token where a script could read it: the refresh token is an HttpOnly cookie, the access token lives in memory.
    assert.equal(await page.evaluate(() => document.cookie), "");
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k !== "coachwire.locale")), []);
    const cookies = await page.context().cookies();
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]!.httpOnly, true);
    assert.equal(cookies[0]!.sameSite, "Strict");
    assert.equal(cookies[0]!.path, "/api/auth");
    // A reload signs in again from the cookie.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Odalar" }).waitFor();
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("coach and two students chat both ways live; typing, online and read receipts show", async () => {
    const c = await openPage(browser, DESKTOP);
    const a = await openPage(browser, PHONE);
    const b = await openPage(browser, PHONE);
    Object.assign(pages, { coach: c, s1: a, s2: b });
    await Promise.all([signIn(c.page, app.url, coach), signIn(a.page, app.url, s1), signIn(b.page, app.url, s2)]);
    await capture(a.page, "rooms");
    for (const p of [c, a, b]) await p.page.goto(`${app.url}/rooms/${roomId}`);
    await a.page.getByRole("heading", { level: 1, name: ROOM }).waitFor();
    await until(async () => (await a.page.locator(".online-count").innerText()).startsWith("3"), "everyone online");

    await b.page.getByLabel("Mesaj", { exact: true }).pressSequentially("Mer");
    await a.page.getByText("Emre Demir yazıyor…").waitFor();

    await a.page.getByLabel("Mesaj", { exact: true }).fill("Merhaba hocam");
    await a.page.keyboard.press("Enter");
    for (const p of [c, b]) await p.page.locator(".msg-text", { hasText: "Merhaba hocam" }).waitFor();
    await c.page.getByLabel("Mesaj", { exact: true }).fill("Merhaba Deniz, bugün türev çalışıyoruz.");
    await c.page.getByRole("button", { name: "Gönder" }).click();
    for (const p of [a, b]) await p.page.locator(".msg-text", { hasText: "bugün türev" }).waitFor();
    // Both others have the room open: Deniz's message is read by 2.
    await a.page.locator(".msg-mine .msg-status", { hasText: "2 kişi okudu" }).waitFor();
    await capture(a.page, "room-chat");
    await capture(c.page, "room-chat-coach", DESKTOP);
  });

  test("a chat message, a room name and a task title with markup stay text", async () => {
    const { s1: a } = pages;
    const tokens = await login(app.url, coach.email, coach.password);
    const sdk = new CoachClient({ url: app.url, tokens });
    try {
      await sdk.connect();
      await sdk.join(xssRoomId);
      await sdk.send(xssRoomId, { text: XSS_CHAT });
      await sdk.createTask({ roomId: xssRoomId, title: XSS_TASK });
    } finally {
      sdk.close();
    }
    await a.page.getByRole("link", { name: "Odalar" }).click();
    await a.page.getByRole("link", { name: /11-A <img src=x onerror/ }).click();
    await a.page.getByRole("heading", { level: 1, name: XSS_ROOM }).waitFor();
    await a.page.locator(".msg-text", { hasText: "<img src=x" }).waitFor();
    await a.page.getByRole("link", { name: "Görevler", exact: true }).click();
    await a.page.getByRole("heading", { level: 2, name: XSS_TASK }).waitFor();
    assert.equal(await a.page.locator("main img, main script").count(), 0);
    assert.equal(await a.page.evaluate(() => (window as { __xss?: string }).__xss), undefined);
    await capture(a.page, "markup-stays-text");
    await a.page.goto(`${app.url}/rooms/${roomId}`);
    // The coach's list counts what the coach has not read there yet (the SDK's own sends included).
    const { coach: c } = pages;
    await c.page.getByRole("link", { name: "Odalar" }).click();
    await c.page.getByLabel(/okunmamış olay/).first().waitFor();
    await capture(c.page, "rooms-unread", DESKTOP);
    await c.page.goto(`${app.url}/rooms/${roomId}`);
  });

  test("the coach creates a counted task; the board shows every assignee", async () => {
    const { coach: c } = pages;
    await c.page.getByRole("link", { name: "Yeni görev" }).click();
    await c.page.getByLabel("Başlık").fill(TASK);
    await c.page.getByLabel("Hedef (soru sayısı)").fill("10");
    const due = new Date(Date.now() + 3 * 86_400_000);
    const local = new Date(due.getTime() - due.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await c.page.getByLabel("Son tarih").fill(local);
    await c.page.getByLabel("Konu").selectOption("mat-turev");
    await capture(c.page, "task-form", DESKTOP);
    await c.page.getByRole("button", { name: "Görevi ver" }).click();
    await c.page.getByRole("heading", { level: 1, name: TASK }).waitFor();
    taskId = decodeURIComponent(new URL(c.page.url()).pathname.split("/").pop()!);
    await c.page.locator('.funnel-stage[data-stage="assigned"] .funnel-count[data-count="2"]').waitFor();
  });

  test("each student reports on the task card (a double-tapped send counts once); the board and funnel follow live", async () => {
    const { s1: a, s2: b, coach: c } = pages;
    for (const p of [a, b]) {
      await p.page.getByRole("link", { name: "Görevler", exact: true }).click();
      await p.page.getByRole("heading", { level: 2, name: TASK }).waitFor();
    }
    // Showing the card marks it seen.
    await c.page.locator('.funnel-stage[data-stage="seen"] .funnel-count[data-count="2"]').waitFor();
    await capture(a.page, "room-tasks");

    for (let i = 0; i < 3; i++) await a.page.getByRole("button", { name: "+1 doğru" }).click();
    await a.page.getByRole("button", { name: "+1 yanlış" }).click();
    await a.page.getByRole("button", { name: "4 cevabı gönder" }).dblclick();
    await a.page.getByTestId("my-counts").filter({ hasText: "10 sorudan 4 çözüldü (3 doğru, 1 yanlış)" }).waitFor();

    for (let i = 0; i < 10; i++) await b.page.getByRole("button", { name: "+1 doğru" }).click();
    await b.page.getByRole("button", { name: "10 cevabı gönder" }).click();
    await b.page.getByTestId("my-counts").filter({ hasText: "Bitti" }).waitFor();

    const row = (user: TestUser) => c.page.locator(`tr[data-user="${user.id}"]`);
    await row(s1).locator('td[data-col="solved"]', { hasText: "4 / 10" }).waitFor();
    await row(s2).locator('td[data-col="solved"]', { hasText: "10 / 10" }).waitFor();
    assert.equal(await row(s1).getAttribute("data-state"), "started");
    assert.equal(await row(s2).getAttribute("data-state"), "done");
    for (const [stage, count] of [
      ["assigned", 2],
      ["delivered", 2],
      ["seen", 2],
      ["started", 2],
      ["done", 1],
    ] as const) {
      await c.page.locator(`.funnel-stage[data-stage="${stage}"] .funnel-count[data-count="${count}"]`).waitFor();
    }
    await capture(c.page, "board", DESKTOP);
    // What the server stored: Deniz's double tap is one report.
    const stored = await app.db.query<{ solved: number }>("SELECT solved FROM task_assignees WHERE task_id = $1 AND user_id = $2", [taskId, s1.id]);
    assert.equal(stored.rows[0]!.solved, 4);
    const reports = await app.db.query("SELECT 1 FROM room_events WHERE room_id = $1 AND kind = 'task.progress' AND sender_id = $2 AND client_id IS NOT NULL", [roomId, s1.id]);
    assert.equal(reports.rows.length, 1);
  });

  test("my tasks, notices, settings and the student summary render; the language switches to English", async () => {
    const { s1: a, coach: c } = pages;
    await a.page.getByRole("link", { name: "Görevlerim" }).click();
    await a.page.getByRole("heading", { level: 2, name: TASK }).waitFor();
    await a.page.locator(".mark-upcoming").first().waitFor();
    await capture(a.page, "my-tasks");
    await a.page.getByRole("link", { name: "Bildirimler" }).click();
    await a.page.getByText("Henüz bildirim yok.").waitFor();
    await capture(a.page, "notices");
    await a.page.getByRole("link", { name: "Ayarlar" }).click();
    await a.page.getByLabel("Saat dilimi").selectOption("Europe/Istanbul");
    await a.page.getByLabel("Başlangıç").fill("23:00");
    await a.page.getByRole("button", { name: "Kaydet" }).click();
    await a.page.getByText("Kaydedildi.").waitFor();
    await capture(a.page, "settings");
    const stored = await app.db.query<{ time_zone: string }>("SELECT time_zone FROM users WHERE id = $1", [s1.id]);
    assert.equal(stored.rows[0]!.time_zone, "Europe/Istanbul");
    await a.page.getByLabel("Dil", { exact: true }).selectOption("en");
    await a.page.getByRole("heading", { level: 1, name: "Settings" }).waitFor();
    await a.page.getByRole("link", { name: "My tasks" }).click();
    await a.page.getByText("of 10 solved").first().waitFor();
    await capture(a.page, "my-tasks-en");
    await a.page.getByRole("link", { name: "Settings" }).click();
    await a.page.getByLabel("Language", { exact: true }).selectOption("tr");
    await a.page.getByRole("heading", { level: 1, name: "Ayarlar" }).waitFor();

    await c.page.goto(`${app.url}/coach/rooms/${roomId}/students/${s1.id}`);
    await c.page.getByRole("heading", { level: 1, name: "Deniz Yılmaz: özet" }).waitFor();
    await c.page.getByText("Ortalama tamamlama").waitFor();
    await capture(c.page, "student-summary", DESKTOP);
  });

  test("the coach shows a join code with a QR code, and mutes a student, who can no longer write", async () => {
    const { coach: c, s2: b } = pages;
    await c.page.goto(`${app.url}/coach/rooms/${roomId}/code`);
    const code = c.page.getByTestId("join-code");
    await code.waitFor();
    assert.match(await code.innerText(), /^[A-HJ-NP-Z2-9]{8}$/);
    assert.ok((await c.page.locator("canvas.qr").boundingBox())!.width >= 200);
    await capture(c.page, "join-code", DESKTOP);

    await b.page.getByRole("link", { name: "Sohbet" }).click();
    await c.page.goto(`${app.url}/rooms/${roomId}/members`);
    await c.page.getByRole("button", { name: "Emre Demir kişisini sustur" }).click();
    await c.page.getByRole("button", { name: "Emre Demir için susturmayı kaldır" }).waitFor();
    await capture(c.page, "members", DESKTOP);
    await b.page.getByPlaceholder("Bu odada susturuldunuz").waitFor();
    await c.page.getByRole("button", { name: "Emre Demir için susturmayı kaldır" }).click();
    await b.page.getByPlaceholder("Bir mesaj yazın").waitFor();
  });

  test("a student cannot open the coach's pages, by link or by URL", async () => {
    const { s1: a } = pages;
    for (const path of [`/coach/tasks/${taskId}`, "/coach/rooms/new", `/coach/rooms/${roomId}/code`, `/coach/rooms/${roomId}/tasks/new`]) {
      await a.page.goto(`${app.url}${path}`);
      await a.page.getByTestId("forbidden").filter({ hasText: "Bu sayfa koçlar içindir." }).waitFor();
    }
    await capture(a.page, "forbidden");
    // The server refuses too, whatever the page shows.
    const { accessToken } = await login(app.url, s1.email, s1.password);
    const res = await fetch(`${app.url}/api/tasks/${taskId}/board`, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(res.status, 403);
    await a.page.goto(`${app.url}/rooms/${roomId}`);
  });

  test("the server is killed and restarted: banners show it, then every page has what was sent meanwhile, in order, once", async () => {
    const all = [pages.coach, pages.s1, pages.s2];
    for (const p of all) await p.page.goto(`${app.url}/rooms/${roomId}`);
    for (const p of all) await p.page.locator('.conn[data-state="connected"]').waitFor();
    await app.kill();
    for (const p of all) await p.page.locator('.conn[data-state="reconnecting"], .conn[data-state="offline"]').waitFor();
    await capture(pages.s1.page, "reconnecting");
    // Deniz writes while the server is away: the message waits, then goes with its clientId.
    await pages.s1.page.getByLabel("Mesaj", { exact: true }).fill("Bağlantı yokken yazdım");
    await pages.s1.page.keyboard.press("Enter");
    await pages.s1.page.locator(".msg-pending .msg-status", { hasText: "Gönderiliyor…" }).waitFor();

    // The browsers stay away while another client writes to the restarted server.
    for (const p of all) await p.page.context().setOffline(true);
    await app.start();
    const other = await createUser(app.db, "student");
    await app.db.query("INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, 'student')", [roomId, other.id]);
    const tokens = await login(app.url, other.email, other.password);
    const sdk = new CoachClient({ url: app.url, tokens });
    try {
      await sdk.connect();
      await sdk.join(roomId);
      for (let i = 1; i <= 5; i++) await sdk.send(roomId, { text: `arada ${i}` });
    } finally {
      sdk.close();
    }
    for (const p of all) await p.page.context().setOffline(false);
    for (const p of all) await p.page.locator('.conn[data-state="connected"]').waitFor({ timeout: 30_000 });

    const wanted = ["arada 1", "arada 2", "arada 3", "arada 4", "arada 5"];
    for (const p of all) {
      await until(async () => {
        const texts = await chatTexts(p.page);
        return wanted.every((w) => texts.includes(w)) && texts.includes("Bağlantı yokken yazdım");
      }, "the messages sent meanwhile");
      const texts = await chatTexts(p.page);
      assert.deepEqual(
        texts.filter((x) => x.startsWith("arada")),
        wanted,
        "each message once, in order",
      );
      assert.equal(texts.filter((x) => x === "Bağlantı yokken yazdım").length, 1);
    }
    const stored = await app.db.query("SELECT 1 FROM room_events WHERE room_id = $1 AND body->>'text' = $2", [roomId, "Bağlantı yokken yazdım"]);
    assert.equal(stored.rows.length, 1);
    await pages.s1.page.locator(".msg-mine .msg-status", { hasText: /okudu|Gönderildi/ }).last().waitFor();
  });

  test("a room with 5,000 events: only what is near the viewport is rendered, and older pages load on scroll up", async (t) => {
    const big = await createRoom(app.db, [coach, s1]);
    const tokens = await login(app.url, coach.email, coach.password);
    const sdk = new CoachClient({ url: app.url, tokens });
    try {
      await sdk.connect();
      await sdk.join(big);
      for (let i = 0; i < 5000; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => sdk.send(big, { text: `m-${i + j + 1}` })));
      }
    } finally {
      sdk.close();
    }
    const { page } = pages.coach;
    await page.goto(`${app.url}/rooms/${big}`);
    await page.locator(".msg-text", { hasText: /^m-5000$/ }).waitFor();
    await page.evaluate(() => {
      const w = window as unknown as { __long: number[] };
      w.__long = [];
      new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__long.push(e.duration))).observe({ type: "longtask" });
    });
    const list = page.locator(".vlist");
    for (let round = 0; round < 200; round++) {
      if ((await page.locator(".msg-text", { hasText: /^m-1$/ }).count()) > 0) break;
      await list.evaluate((el) => (el.scrollTop = 0));
      await page.waitForTimeout(60);
    }
    await page.locator(".msg-text", { hasText: /^m-1$/ }).waitFor();
    const rendered = await page.locator(".vlist-item").count();
    assert.ok(rendered < 200, `${rendered} items in the DOM for 5,000 events`);
    const texts = (await chatTexts(page)).map((x) => Number(x.slice(2)));
    assert.deepEqual(texts, [...texts].sort((x, y) => x - y), "ascending");
    assert.equal(texts[0], 1);
    // Scrolling back down through all of it: a measurement, reported, not asserted.
    const started = Date.now();
    await list.evaluate(async (el) => {
      for (let y = 0; y < el.scrollHeight; y += 1500) {
        el.scrollTop = y;
        await new Promise((r) => requestAnimationFrame(() => r(null)));
      }
    });
    const long = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
    t.diagnostic(
      `5,000 events: ${rendered} items rendered at the top; paging up and scrolling down had ${long.length} long tasks (max ${Math.round(Math.max(0, ...long))} ms); the scroll-down pass took ${Date.now() - started} ms`,
    );
  });

  test("a revoked session lands on sign-in with a message; sign-out clears the session", async () => {
    // Emre signs in on a fresh profile; the test captures that session's access token and revokes it.
    const { page, context } = await openPage(browser, PHONE);
    const token = new Promise<string>((resolve) =>
      page.on("response", async (r) => {
        if (r.url().endsWith("/api/auth/login")) resolve(((await r.json()) as { accessToken: string }).accessToken);
      }),
    );
    await signIn(page, app.url, s2);
    const res = await fetch(`${app.url}/api/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${await token}` } });
    assert.equal(res.status, 200);
    await page.getByText("Oturumunuz sonlandırıldı. Lütfen yeniden giriş yapın.").waitFor();
    await capture(page, "signin-revoked");
    await context.close();

    const { s1: a } = pages;
    await a.page.getByRole("button", { name: "Çıkış yap" }).click();
    await a.page.getByText("Çıkış yaptınız.").waitFor();
    assert.deepEqual(await a.page.context().cookies(), []);
    await a.page.reload();
    await a.page.getByRole("heading", { level: 1, name: "Giriş yap" }).waitFor();
    for (const p of Object.values(pages)) assert.deepEqual(p.errors, []);
  });
});
