/**
 * Debian's Chromium for browser tests, driven by playwright-core: the path (a missing browser is a
 * failure that says how to install it, never a skip), the flags this closed network needs, and a
 * watcher for requests leaving the server and console errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const ARTIFACTS = resolve(import.meta.dirname, '../artifacts');

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      "Chromium is not installed: the browser test needs Debian's chromium. Install it with `apt-get install -y chromium` (CI runs .ci/browser, which does this).",
    );
  }
}

/** A fresh profile with HTTP Basic credentials; `close()` removes the profile too. */
export async function launchBrowser(credentials: { username: string; password: string }): Promise<{
  context: BrowserContext;
  close(): Promise<void>;
}> {
  const profile = mkdtempSync(join(tmpdir(), 'isp-dashboard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_FLAGS,
    httpCredentials: credentials,
    viewport: { width: 1280, height: 900 },
    timezoneId: 'Europe/Berlin', // not the vendor zone: pages must not follow the browser's
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Everything the page requested outside the server, and every console error: both must stay empty. */
export function watch(page: Page, origin: string) {
  const external: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) external.push(url);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { external, errors };
}

/** Clicks Retry on the bull-board card of `jobId` (queue and Failed tab must be open). */
export async function retryFromDashboard(page: Page, jobId: string, shows = ''): Promise<string> {
  const card = page
    .locator('[class*="card-"]')
    .filter({ has: page.getByText(jobId, { exact: true }) })
    .last();
  for (let i = 0; i < 150 && (await card.count()) === 0; i++) await page.waitForTimeout(100);
  // The card's panels render after the card itself (seen on a loaded machine): wait for `shows`.
  let text = (await card.textContent()) ?? '';
  for (let i = 0; i < 50 && !text.includes(shows); i++) {
    await page.waitForTimeout(100);
    text = (await card.textContent()) ?? '';
  }
  await card.locator('button:has(svg.lucide-refresh-cw)').click();
  const confirm = page.getByRole('button', { name: /^(retry|confirm|ok|yes)$/i });
  if (
    await confirm
      .first()
      .isVisible({ timeout: 1_000 })
      .catch(() => false)
  )
    await confirm.first().click();
  return text;
}
