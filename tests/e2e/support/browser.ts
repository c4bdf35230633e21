import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

/** Debian's chromium (package `chromium`, installed by infra/scripts/ensure-system-deps.sh). */
export const CHROMIUM = process.env.VAULTFLOW_CHROMIUM ?? '/usr/bin/chromium';

/** Where screenshots go (tests/output is ignored by git). */
export const SCREENSHOTS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../output/screenshots');

/**
 * Starts headless chromium as root needs it: no sandbox, and no background traffic (this machine's
 * network is closed). Throws when the browser is missing: the GUI tests never skip silently.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (bash infra/scripts/ensure-system-deps.sh installs it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/**
 * Problems the console reported: uncaught errors and console errors other than expected 4xx answers.
 * The queue board (/admin/queues) is Bull Board's page, not the console's: what it logs is left out
 * (it asks the internet for web fonts, which this machine's closed network refuses).
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  const ours = () => !new URL(page.url()).pathname.startsWith('/admin/queues');
  page.on('pageerror', (e) => ours() && errors.push(`pageerror at ${page.url()}: ${e.message}`));
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() !== 'error' || !ours()) return;
    // the browser logs every 4xx answer; the tests provoke some on purpose (wrong password, 403)
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) return;
    errors.push(`console at ${page.url()}: ${m.text()}`);
  });
  return errors;
}

/** Saves a full-page screenshot as tests/output/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
