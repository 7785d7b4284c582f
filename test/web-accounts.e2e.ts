import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { login } from "../protocol/client.ts";
import { restClient, type Json } from "./support/accounts-api.ts";
import { createRoom, createUser, type TestUser } from "./support/fixtures.ts";
import { captureScreen as capture, DESKTOP, launchChromium, openPage, PHONE, signIn } from "./support/browser.ts";
import { missingBrowserServices, startWebApp, type WebApp } from "./support/web-app.ts";

// The account and parent screens end to end: Debian's Chromium against server/main.ts on real
// PostgreSQL. Mailed links are read from the outbox through the admin API (no SMTP in tests),
// then opened the way a person would: the link's path and fragment on the app's origin. axe on
// every new screen; pictures at phone and desktop size into web/screenshots/.

const skip = await missingBrowserServices();
const ROOM = "10-B Fizik";
const NEW_PASSWORD = "mavi-defter-2026";

describe("account and parent screens in Chromium", { skip }, () => {
  let app: WebApp;
  let browser: Browser;
  let admin: TestUser, coach: TestUser, child: TestUser, otherStudent: TestUser;
  let adminToken: string, coachToken: string;
  let roomId: string;
  const api = restClient(() => app.url);

  /** The newest mail to `to` whose link goes to `path`, as the admin's outbox shows it; the link on this app's origin. */
  async function mailedLink(to: string, path: string): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const { items } = (await api.ok(adminToken, "GET", "/api/admin/outbox?limit=200")) as { items: { to: string; link: string | null }[] };
      const mail = items.find((m) => m.to === to && m.link !== null && new URL(m.link).pathname === path);
      if (mail) {
        const link = new URL(mail.link!);
        assert.match(link.hash, /^#token=[A-Za-z0-9_-]+$/);
        return `${app.url}${link.pathname}${link.hash}`;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no mail to ${to} with a ${path} link`);
  }

  const name = async (user: TestUser, displayName: string) => app.db.query("UPDATE users SET display_name = $2 WHERE id = $1", [user.id, displayName]);

  before(async () => {
    app = await startWebApp();
    [admin, coach, child, otherStudent] = [await createUser(app.db, "admin"), await createUser(app.db, "coach"), await createUser(app.db, "student"), await createUser(app.db, "student")];
    await name(coach, "Ayşe Koç");
    await name(child, "Deniz Yılmaz");
    await name(otherStudent, "Emre Demir");
    roomId = await createRoom(app.db, [coach, child, otherStudent]);
    await app.db.query("UPDATE rooms SET name = $2 WHERE id = $1", [roomId, ROOM]);
    adminToken = (await login(app.url, admin.email, admin.password)).accessToken;
    coachToken = (await login(app.url, coach.email, coach.password)).accessToken;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  test("sign-up with a join code: check your mail, then the mailed link's page creates the account and enters the room", async () => {
    const { joinCode } = (await api.ok(coachToken, "POST", `/api/rooms/${roomId}/join-codes`, {}, 201)) as { joinCode: { code: string } };
    const { page, errors } = await openPage(browser, PHONE);
    // The coach's QR code opens /join?code=…; signed out, the sign-in screen offers sign-up with that code.
    await page.goto(`${app.url}/join?code=${joinCode.code}`);
    await capture(page, "signin-links");
    await page.getByRole("link", { name: "Yeni misiniz? Katılım koduyla kaydolun" }).click();
    await page.getByRole("heading", { level: 1, name: "Kaydol" }).waitFor();
    assert.equal(await page.getByLabel("Katılım kodu").inputValue(), joinCode.code);
    const email = `defne-${Date.now()}@test.coachwire`;
    await page.getByLabel("Adınız").fill("Defne Kaya");
    await page.getByLabel("E-posta").fill(email);
    // A weak password is refused with the rule, and nothing is mailed.
    await page.getByLabel("Parola", { exact: true }).fill("kisa1");
    await page.getByLabel("Parolayı tekrar girin").fill("kisa1");
    await page.getByRole("button", { name: "Kaydol" }).click();
    await page.getByRole("alert").filter({ hasText: "Daha güçlü bir şifre seçin" }).waitFor();
    await page.getByLabel("Parola", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Parolayı tekrar girin").fill("başka-bir-parola-1");
    await page.getByText("İki parola aynı değil.").waitFor();
    await page.getByLabel("Parolayı tekrar girin").fill(NEW_PASSWORD);
    await capture(page, "signup");
    await page.getByRole("button", { name: "Kaydol" }).click();
    await page.getByTestId("check-mail").filter({ hasText: email }).waitFor();
    await capture(page, "signup-check-mail");
    assert.equal((await app.db.query("SELECT 1 FROM users WHERE email = $1", [email])).rows.length, 0, "no account before the link is used");

    await page.goto(await mailedLink(email, "/invite"));
    await page.getByRole("heading", { level: 1, name: "Hesabınızı onaylayın" }).waitFor();
    await page.getByTestId("invite-what").filter({ hasText: email }).waitFor();
    await capture(page, "signup-confirm");
    await page.getByRole("button", { name: "Hesabımı oluştur ve odaya gir" }).click();
    await page.getByText("Devam etmek için kullanım koşullarını kabul edin.").waitFor();
    await page.getByLabel(/Kullanım koşullarını \(sürüm .+\) kabul ediyorum\./).check();
    await page.getByRole("button", { name: "Hesabımı oluştur ve odaya gir" }).click();
    await page.getByRole("heading", { level: 1, name: ROOM }).waitFor();
    const made = await app.db.query<{ id: string; role: string }>("SELECT id, role FROM users WHERE email = $1", [email]);
    assert.equal(made.rows[0]!.role, "student");
    const member = await app.db.query("SELECT 1 FROM memberships WHERE room_id = $1 AND user_id = $2", [roomId, made.rows[0]!.id]);
    assert.equal(member.rows.length, 1);
    // The session is kept like a sign-in's: an HttpOnly cookie, nothing a script can read; a reload keeps it.
    assert.equal(await page.evaluate(() => document.cookie), "");
    assert.deepEqual((await page.context().cookies()).map((c) => [c.name, c.httpOnly]), [["cw_refresh", true]]);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: ROOM }).waitFor();
    // The link works once.
    const used = await mailedLink(email, "/invite");
    await page.goto(used);
    await page.getByRole("alert").filter({ hasText: "Bu bağlantı artık geçerli değil." }).waitFor();
    await capture(page, "invite-link-used");
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("an invitation: the invitee chooses a name and a password, accepts the terms and is signed in", async () => {
    const email = `mert-${Date.now()}@test.coachwire`;
    await api.ok(adminToken, "POST", "/api/admin/invites", { email, role: "coach", displayName: "Mert Hoca" }, 201);
    const { page, errors } = await openPage(browser, PHONE);
    await page.goto(await mailedLink(email, "/invite"));
    await page.getByRole("heading", { level: 1, name: "Daveti kabul edin" }).waitFor();
    await page.getByTestId("invite-what").filter({ hasText: "Koç olarak davet edildi" }).waitFor();
    assert.equal(await page.getByLabel("Adınız").inputValue(), "Mert Hoca");
    await page.getByLabel("Adınız").fill("Mert Aydın");
    await page.getByLabel("Yeni parola", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Parolayı tekrar girin").fill(NEW_PASSWORD);
    await page.getByLabel(/Kullanım koşullarını/).check();
    await capture(page, "invite");
    await page.getByRole("button", { name: "Hesabımı oluştur" }).click();
    await page.getByRole("heading", { level: 1, name: "Odalar" }).waitFor();
    assert.equal(await page.locator(".who-name").textContent(), "Mert Aydın");
    const stored = await app.db.query<{ id: string; role: string; display_name: string }>("SELECT id, role, display_name FROM users WHERE email = $1", [email]);
    assert.equal(stored.rows[0]!.role, "coach");
    assert.equal(stored.rows[0]!.display_name, "Mert Aydın");
    const { accessToken } = await login(app.url, email, NEW_PASSWORD);
    const { consent } = (await api.ok(accessToken, "GET", "/api/me/consent")) as { consent: { accepted: boolean } };
    assert.equal(consent.accepted, true, "the terms in force are recorded as accepted");
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("an account an admin made: the welcome link's page sets the first password and signs in", async () => {
    const email = `selin-${Date.now()}@test.coachwire`;
    await api.ok(adminToken, "POST", "/api/admin/users", { email, displayName: "Selin Öğretmen", role: "coach" }, 201);
    const { page, errors } = await openPage(browser, PHONE);
    await page.goto(await mailedLink(email, "/set-password"));
    await page.getByRole("heading", { level: 1, name: "Parolanızı seçin" }).waitFor();
    await page.getByLabel("Yeni parola", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Parolayı tekrar girin").fill(NEW_PASSWORD);
    await capture(page, "set-password");
    // Keyboard only: Enter in the last field submits the form.
    await page.getByLabel("Parolayı tekrar girin").press("Enter");
    await page.getByRole("heading", { level: 1, name: "Odalar" }).waitFor();
    await login(app.url, email, NEW_PASSWORD);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("a forgotten password: reset through the mailed link, then the old password is refused with a message and the new one signs in", async () => {
    const user = await createUser(app.db, "student");
    const { page, errors } = await openPage(browser, PHONE);
    await page.goto(`${app.url}/`);
    await page.getByRole("link", { name: "Parolanızı mı unuttunuz?" }).click();
    await page.getByRole("heading", { level: 1, name: "Parolanızı sıfırlayın" }).waitFor();
    await page.getByLabel("E-posta").fill(user.email);
    await capture(page, "forgot-password");
    // Signed out, the language is one button away; the page follows at once.
    await page.getByRole("button", { name: "English" }).click();
    await page.getByRole("heading", { level: 1, name: "Reset your password" }).waitFor();
    await capture(page, "forgot-password-en");
    await page.getByRole("button", { name: "Türkçe" }).click();
    await page.getByRole("heading", { level: 1, name: "Parolanızı sıfırlayın" }).waitFor();
    await page.getByRole("button", { name: "Bağlantıyı gönder" }).click();
    await page.getByTestId("check-mail").filter({ hasText: user.email }).waitFor();
    await capture(page, "forgot-password-sent");

    await page.goto(await mailedLink(user.email, "/reset-password"));
    await page.getByRole("heading", { level: 1, name: "Yeni parola seçin" }).waitFor();
    await page.getByLabel("Yeni parola", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Parolayı tekrar girin").fill(NEW_PASSWORD);
    await capture(page, "reset-password");
    await page.getByRole("button", { name: "Parolayı kaydet ve giriş yap" }).click();
    await page.getByRole("heading", { level: 1, name: "Odalar" }).waitFor();
    await page.getByRole("button", { name: "Çıkış yap" }).click();
    await page.getByText("Çıkış yaptınız.").waitFor();

    await page.getByLabel("E-posta").fill(user.email);
    await page.getByLabel("Parola").fill(user.password);
    await page.getByRole("button", { name: "Giriş yap" }).click();
    await page.getByRole("alert").filter({ hasText: "E-posta veya parola yanlış." }).waitFor();
    await capture(page, "signin-old-password");
    await page.getByLabel("Parola").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Giriş yap" }).click();
    await page.getByRole("heading", { level: 1, name: "Odalar" }).waitFor();
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("a parent from a guardian invitation sees only their child: tasks, progress, summary; another student's id and the student pages are not for them", async () => {
    // Something for the parent to read: a counted task, and the child's report on it.
    const { task } = (await api.ok(coachToken, "POST", `/api/rooms/${roomId}/tasks`, { clientId: "parent-view-task", title: "30 kuvvet sorusu", target: 30, dueAt: Date.now() + 2 * 86_400_000 }, 201)) as Json;
    const childToken = (await login(app.url, child.email, child.password)).accessToken;
    await api.ok(childToken, "POST", `/api/tasks/${task.id}/progress`, { opId: "p1", correct: 9, wrong: 3 });

    const email = `veli-${Date.now()}@test.coachwire`;
    await api.ok(coachToken, "POST", `/api/students/${child.id}/guardian-invites`, { email }, 201);
    const { page, errors } = await openPage(browser, PHONE);
    await page.goto(await mailedLink(email, "/invite"));
    await page.getByRole("heading", { level: 1, name: "Veli hesabınızı oluşturun" }).waitFor();
    await page.getByTestId("invite-what").filter({ hasText: "Deniz Yılmaz adlı öğrencinin" }).waitFor();
    await page.getByLabel("Adınız").fill("Ayten Yılmaz");
    await page.getByLabel("Yeni parola", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Parolayı tekrar girin").fill(NEW_PASSWORD);
    await page.getByLabel(/Kullanım koşullarını/).check();
    await capture(page, "invite-guardian");
    await page.getByRole("button", { name: "Hesabımı oluştur" }).click();
    await page.getByRole("heading", { level: 1, name: "Çocuklarım" }).waitFor();
    await page.getByRole("link", { name: /Deniz Yılmaz/ }).waitFor();
    assert.equal(await page.getByText("Emre Demir").count(), 0);
    // A parent's menu has no rooms, tasks or notices, and no connection banner (no socket).
    assert.deepEqual(await page.getByRole("navigation").getByRole("link").allInnerTexts(), ["Çocuklarım", "Ayarlar"]);
    assert.equal(await page.locator(".conn").count(), 0);
    await capture(page, "parent-children");

    await page.getByRole("link", { name: /Deniz Yılmaz/ }).click();
    await page.getByRole("heading", { level: 1, name: "Deniz Yılmaz" }).waitFor();
    await page.getByRole("heading", { level: 3, name: ROOM }).waitFor();
    await page.getByRole("heading", { level: 2, name: "30 kuvvet sorusu" }).waitFor();
    await page.getByText("30 sorudan 12 çözüldü (9 doğru, 3 yanlış)").waitFor();
    assert.equal(await page.getByRole("button", { name: "+1 doğru" }).count(), 0, "a parent reads, never reports");
    await capture(page, "parent-child");
    await capture(page, "parent-child", DESKTOP);

    await page.goto(`${app.url}/children/${otherStudent.id}`);
    await page.getByTestId("not-your-child").filter({ hasText: "Bu öğrenci sizin çocuklarınızdan biri değil." }).waitFor();
    assert.equal(await page.getByText("Emre Demir").count(), 0);
    await capture(page, "parent-not-your-child");
    for (const path of [`/rooms/${roomId}`, "/tasks", "/notices", `/coach/tasks/${task.id}`]) {
      await page.goto(`${app.url}${path}`);
      await page.getByTestId("forbidden").filter({ hasText: "Bu sayfa veliler için değil." }).waitFor();
    }
    await capture(page, "parent-not-for-parents");
    // The server refuses too: another student is "No such student", a room is not a parent's.
    const { accessToken } = await login(app.url, email, NEW_PASSWORD);
    const refused = await api.refused(accessToken, "GET", `/api/parent/children/${otherStudent.id}/tasks`, undefined, "NOT_FOUND");
    assert.equal(refused.message, "No such student");
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("a student cannot open the coach's pages or a parent's, by URL", async () => {
    const { page, errors } = await openPage(browser, PHONE);
    await signIn(page, app.url, otherStudent);
    for (const path of ["/coach/rooms/new", `/coach/rooms/${roomId}/code`, `/coach/rooms/${roomId}/students/${child.id}`]) {
      await page.goto(`${app.url}${path}`);
      await page.getByTestId("forbidden").filter({ hasText: "Bu sayfa koçlar içindir." }).waitFor();
    }
    await page.goto(`${app.url}/children/${child.id}`);
    await page.getByTestId("forbidden").filter({ hasText: "Bu sayfa veliler içindir." }).waitFor();
    const { accessToken } = await login(app.url, otherStudent.email, otherStudent.password);
    await api.refused(accessToken, "GET", `/api/rooms/${roomId}/students/${child.id}/summary`, undefined, "FORBIDDEN");
    await api.refused(accessToken, "GET", `/api/parent/children/${child.id}/tasks`, undefined, "FORBIDDEN");
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("sessions: one browser ends another's session, which lands on sign-in with a message; then all the others at once; the data export downloads", async () => {
    const user = await createUser(app.db, "student");
    await app.db.query("INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, 'student')", [roomId, user.id]);
    const a = await openPage(browser, DESKTOP);
    const b = await openPage(browser, PHONE);
    await signIn(a.page, app.url, user);
    await signIn(b.page, app.url, user);
    await b.page.goto(`${app.url}/rooms/${roomId}`);
    await b.page.locator('.conn[data-state="connected"]').waitFor();

    await a.page.getByRole("link", { name: "Ayarlar", exact: true }).click();
    await a.page.getByRole("heading", { level: 2, name: "Oturumlar" }).waitFor();
    await capture(a.page, "settings-account", DESKTOP);
    await a.page.getByRole("link", { name: "Oturumları gör" }).click();
    await a.page.getByRole("heading", { level: 1, name: "Oturumlar" }).waitFor();
    await until(async () => (await a.page.locator(".session").count()) === 2, "both sessions listed");
    await a.page.locator(".session[data-current] .tag", { hasText: "Bu cihaz" }).waitFor();
    assert.match(await a.page.locator(".session").first().innerText(), /Chrome · Linux/);
    assert.match(await a.page.locator(".session:not([data-current])").innerText(), /127\.0\.0\.1/);
    await capture(a.page, "sessions", DESKTOP);

    await a.page.getByRole("button", { name: /^Chrome · Linux \(127\.0\.0\.1\) oturumunu kapat$/ }).click();
    await a.page.getByText("1 oturum kapatıldı.").waitFor();
    await b.page.getByText("Oturumunuz sonlandırıldı. Lütfen yeniden giriş yapın.").waitFor();
    await b.page.getByRole("heading", { level: 1, name: "Giriş yap" }).waitFor();
    await capture(b.page, "signin-session-ended");
    assert.equal(await a.page.locator(".session").count(), 1);

    // Two more browsers; "end all other sessions" signs both out and keeps this one.
    const c = await openPage(browser, PHONE);
    await signIn(b.page, app.url, user);
    await signIn(c.page, app.url, user);
    await a.page.reload();
    await until(async () => (await a.page.locator(".session").count()) === 3, "three sessions listed");
    await a.page.getByRole("button", { name: "Diğer bütün oturumları kapat" }).click();
    await a.page.getByText("2 oturum kapatıldı.").waitFor();
    for (const other of [b, c]) await other.page.getByText("Oturumunuz sonlandırıldı. Lütfen yeniden giriş yapın.").waitFor();
    await a.page.getByRole("link", { name: "Ayarlar", exact: true }).click();

    const download = a.page.waitForEvent("download");
    await a.page.getByRole("button", { name: "Verilerimi indir" }).click();
    const file = await (await download).path();
    const exported = JSON.parse(await readFile(file, "utf8")) as { profile: { id: string }; sessions: unknown[] };
    assert.equal(exported.profile.id, user.id);
    assert.ok(exported.sessions.length >= 3);
    for (const p of [a, b, c]) assert.deepEqual(p.errors, []);
    for (const p of [a, b, c]) await p.context.close();
  });

  test("changing the password: a wrong current one is refused; the change signs out the other browser and keeps this one live", async () => {
    const user = await createUser(app.db, "student");
    await app.db.query("INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, 'student')", [roomId, user.id]);
    const a = await openPage(browser, PHONE);
    const b = await openPage(browser, PHONE);
    await signIn(a.page, app.url, user);
    await signIn(b.page, app.url, user);
    await a.page.goto(`${app.url}/settings`);
    await a.page.getByLabel("Şu anki parola").fill("not-the-password-9");
    await a.page.getByLabel("Yeni parola", { exact: true }).fill(NEW_PASSWORD);
    await a.page.getByLabel("Parolayı tekrar girin").fill(NEW_PASSWORD);
    await a.page.getByRole("button", { name: "Parolayı değiştir" }).click();
    await a.page.getByRole("alert").filter({ hasText: "Şu anki parola yanlış." }).waitFor();
    await a.page.getByLabel("Şu anki parola").fill(user.password);
    await a.page.getByRole("button", { name: "Parolayı değiştir" }).click();
    await a.page.getByText("Parola değişti. Diğer oturumlarınız kapatıldı.").waitFor();
    await capture(a.page, "settings-password-changed");
    await b.page.getByText("Oturumunuz sonlandırıldı. Lütfen yeniden giriş yapın.").waitFor();
    // This browser stays signed in, live, and a reload keeps it (the new session's cookie).
    await a.page.locator('.conn[data-state="connected"]').waitFor();
    await a.page.reload();
    await a.page.getByRole("heading", { level: 1, name: "Ayarlar" }).waitFor();
    await a.page.getByRole("link", { name: "Odalar" }).click();
    await a.page.getByRole("link", { name: new RegExp(ROOM) }).waitFor();
    await login(app.url, user.email, NEW_PASSWORD);
    for (const p of [a, b]) assert.deepEqual(p.errors, []);
    for (const p of [a, b]) await p.context.close();
  });
});

async function until(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

