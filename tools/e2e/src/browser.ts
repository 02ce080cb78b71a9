import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/** Debian's Chromium, installed by .ci/run from Debian's packages; never a downloaded browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Where each run leaves a screenshot of every page it visits (ignored by git). */
export const SCREENSHOTS = fileURLToPath(new URL("../screenshots", import.meta.url));

/**
 * Headless Chromium that talks to loopback only: without the background-networking switches it keeps
 * trying hosts this machine cannot reach.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
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

/** A person's own browser: a context of its own (cookies, storage), like a separate profile. */
export type PersonBrowser = { readonly context: BrowserContext; readonly page: Page };

export async function browserFor(browser: Browser, baseURL: string): Promise<PersonBrowser> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  return { context, page };
}

/**
 * Signs `person` in through the console: the sign-in link, the OIDC stand-in's login page (one button
 * per seeded person), back to the console with a session cookie.
 */
export async function signIn(page: Page, person: string, path = "/"): Promise<void> {
  await page.goto(path);
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByRole("button", { name: new RegExp(`^Sign in as ${person}\\b`) }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** A full-page screenshot named after the step, for people reviewing a run. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
