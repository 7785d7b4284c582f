import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { CHROMIUM } from "./web-app.ts";
import type { TestUser } from "./fixtures.ts";

/**
 * Debian's Chromium driven by playwright-core (no browser download), with the flags that keep
 * it from calling hosts this machine cannot reach; page helpers the web suites share.
 */

export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 800 };
/** Where every screen's picture goes (git-ignored; a few are copied to docs/screenshots/). */
export const SCREENSHOTS = new URL("../../web/screenshots/", import.meta.url).pathname;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A fresh browser profile (own cookies) at a viewport size, with the page's errors collected. */
export async function openPage(browser: Browser, size = PHONE): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: size, locale: "tr-TR", timezoneId: "Europe/Istanbul" });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (msg) => {
    // A CSP violation is a defect of the app; it shows up as a console error.
    if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) errors.push(msg.text());
  });
  page.setDefaultTimeout(15_000);
  return { context, page, errors };
}

/** Signs in through the form and waits for the rooms screen. */
export async function signIn(page: Page, url: string, user: Pick<TestUser, "email" | "password">): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel(/E-posta|Email/).fill(user.email);
  await page.getByLabel(/Parola|Password/).fill(user.password);
  await page.getByRole("button", { name: /Giriş yap|Sign in/ }).click();
  await page.getByRole("heading", { level: 1, name: /Odalar|Rooms/ }).waitFor();
}

/** axe on the page as it is now: no serious or critical violation. */
export async function assertAccessible(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`),
    [],
    `accessibility violations on ${screen}`,
  );
}

/** Writes web/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: false });
}

/** axe and a picture at phone and desktop size; the page ends at `size` again. */
export async function captureScreen(page: Page, name: string, size = PHONE): Promise<void> {
  for (const [label, viewport] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(150);
    await assertAccessible(page, `${name} (${label})`);
    await screenshot(page, `${name}-${label}`);
  }
  await page.setViewportSize(size);
}
