/**
 * The dashboard as an operator sees it, in Debian's Chromium driven by playwright-core: the status
 * page shows the same numbers as /api/status, the queue dashboard lists a real failed job in the
 * vendor's zone, offers no clean/remove for it (and refuses one sent anyway), and its Retry button
 * takes the job out of the failed set (checked through the BullMQ Queue API).
 * Nothing is loaded from outside the server. Screenshots go to test/artifacts/.
 * Without Chromium this test fails (CI installs it with .ci/browser); it never skips.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../src/pipeline/status-types.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { ARTIFACTS, chromiumPath, CHROMIUM_FLAGS as FLAGS, watch } from '../helpers/browser.js';
import { basicAuth, createWebFixture, FORBIDDEN, SECRETS, type WebFixture } from '../web/fixture.js';

describe('dashboard in a real browser', () => {
  let fx: WebFixture;
  let server: WebServer;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    const executablePath = chromiumPath();
    mkdirSync(ARTIFACTS, { recursive: true });
    fx = await createWebFixture();
    server = await startWebServer(fx.deps());
    profile = mkdtempSync(join(tmpdir(), 'isp-dashboard-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: FLAGS,
      httpCredentials: { username: SECRETS.webUser, password: SECRETS.webPassword },
      viewport: { width: 1280, height: 900 },
      timezoneId: 'Europe/Berlin', // not the vendor zone: the page must not follow the browser's
    });
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await server?.close();
    await fx?.close();
  });

  async function apiStatus(): Promise<StatusSnapshot> {
    const res = await fetch(`${server.url}/api/status`, { headers: { authorization: basicAuth() } });
    expect(res.status).toBe(200);
    return (await res.json()) as StatusSnapshot;
  }

  it('status page shows the numbers of /api/status, in the vendor zone', async () => {
    const page = await context.newPage();
    const seen = watch(page, server.url);
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator('[data-testid="chart"]').count()).toBe(1);
    const api = await apiStatus();
    const shown = async (id: string) => {
      const el = page.locator(`[data-testid="${id}"]`);
      expect(await el.count(), id).toBe(1);
      return { text: (await el.textContent())?.trim(), value: await el.getAttribute('data-value') };
    };
    let compared = 0;
    for (const s of api.streams) {
      for (const [id, n] of [
        [`delivered-hour-${s.stream}`, s.delivered.lastHour],
        [`delivered-day-${s.stream}`, s.delivered.lastDay],
        [`failed-${s.stream}`, s.failed],
        [`quarantined-${s.stream}`, s.quarantined],
        [`waiting-${s.stream}`, s.push.waiting],
        [`active-${s.stream}`, s.push.active],
        [`delayed-${s.stream}`, s.push.delayed],
      ] as const) {
        expect(await shown(id), id).toEqual({ text: String(n), value: String(n) });
        compared++;
      }
      expect((await shown(`read-up-to-${s.stream}`)).value).toBe(String(s.readUpTo ?? ''));
      expect((await shown(`checkpoint-${s.stream}`)).value).toBe(s.checkpoint?.time ?? '');
      const lag = (await shown(`lag-${s.stream}`)).value;
      if (s.lagSeconds === null) expect(lag).toBe('');
      else expect(Math.abs(Number(lag) - s.lagSeconds)).toBeLessThanOrEqual(5); // two calls, a few s apart at most
    }
    expect(compared).toBe(28);
    const chartTotal = api.deliveredPerMinute.reduce((n, p) => n + p.count, 0);
    expect((await shown('chart-total')).text).toBe(String(chartTotal));
    expect((await shown('isp-reachable')).value).toBe(String(api.isp.reachable));
    expect((await shown('isp-token-valid')).value).toBe(String(api.isp.token.valid));
    const lots = page.locator('[data-testid="lot"]');
    expect(await lots.count()).toBe(api.lots.length);
    for (const [i, lot] of api.lots.entries()) {
      const row = lots.nth(i);
      expect(await row.getAttribute('data-park-code')).toBe(lot.parkCode);
      expect(await row.locator('[data-testid="lot-last-entrance"]').getAttribute('data-value')).toBe(
        String(lot.lastEntrance ?? ''),
      );
      expect(await row.locator('[data-testid="lot-last-departure"]').getAttribute('data-value')).toBe(
        String(lot.lastDeparture ?? ''),
      );
    }
    // 1772323200 is 08:00 in Shanghai (and 01:00 in the browser's Berlin): the vendor zone wins.
    expect(await page.locator('[data-testid="lot"][data-park-code="ATXL/1"]').textContent()).toContain(
      '2026-03-01 08:00:00',
    );
    expect(await page.locator('[data-testid="time-zone"]').textContent()).toBe('Asia/Shanghai (UTC+08:00)');
    const body = await page.content();
    expect(FORBIDDEN.filter((secret) => body.includes(secret))).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'status.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    // A phone shows the page without sideways scrolling of the page itself (tables scroll inside).
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, 'status-phone.png'), fullPage: true });
    expect(seen.external).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('status page charts the last 14 days: delivered per day and the nightly completeness, as /api/status has them', async () => {
    const page = await context.newPage();
    const seen = watch(page, server.url);
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator('[data-testid="days-chart"]').count()).toBe(1);
    const api = await apiStatus();
    expect(api.recentDays).toHaveLength(14);
    const bars = page.locator('[data-testid="day-bar"]');
    expect(await bars.count()).toBe(14);
    for (const [i, day] of api.recentDays.entries()) {
      expect(await bars.nth(i).getAttribute('data-day')).toBe(day.day);
      expect(await bars.nth(i).getAttribute('data-value')).toBe(String(day.delivered));
    }
    // What the fixture delivered on its last six days, oldest first; nothing before.
    expect(api.recentDays.map((d) => d.delivered)).toEqual([...Array(8).fill(0), 120, 0, 95, 180, 150, 40]);
    const dots = page.locator('[data-testid="day-completeness"]');
    expect(await dots.count()).toBe(2);
    const checked = api.recentDays.filter((d) => d.completeness !== null);
    expect(checked.map((d) => d.completeness)).toEqual([99.4, 100]);
    for (const [i, day] of checked.entries()) {
      expect(await dots.nth(i).getAttribute('data-day')).toBe(day.day);
      expect(await dots.nth(i).getAttribute('data-value')).toBe(String(day.completeness));
    }
    expect(await page.locator('[data-testid="days-lowest-completeness"]').textContent()).toBe('99.4%');
    // The tallest bar is the busiest day, and a taller bar means more deliveries.
    const heights = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('height'))));
    expect(heights.indexOf(Math.max(...heights))).toBe(11);
    expect(heights[12]).toBeLessThan(heights[11]!);
    await page
      .locator('figure:has([data-testid="days-chart"])')
      .screenshot({ path: join(ARTIFACTS, 'status-days.png') });
    expect(seen.external).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('offers no clean/remove for a failed job, refuses it when asked anyway, and shows times in the vendor zone', async () => {
    const queue = fx.queues.push.entrances;
    const jobId = fx.failedJobId2;
    expect(await queue.getJobState(jobId)).toBe('failed');
    const page = await context.newPage();
    const seen = watch(page, server.url);
    await page.goto(`${server.url}/admin/queues`);
    await page.getByText('push-entrances', { exact: true }).first().click();
    await page
      .getByText(/^failed$/i)
      .first()
      .click();
    const card = page
      .locator('[class*="card-"]')
      .filter({ has: page.getByText(jobId, { exact: true }) })
      .last();
    await expect.poll(() => card.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.evaluate('document.documentElement.dataset.ispStatus')).toBe('failed');
    // Retry is offered; clean, duplicate and edit (all refused by the policy) are not.
    await expect.poll(() => card.locator('button:has(svg.lucide-refresh-cw)').isVisible()).toBe(true);
    for (const icon of ['trash-2', 'files', 'pencil']) {
      const buttons = card.locator(`ul[class*="jobActions-"] button:has(svg.lucide-${icon})`);
      expect(await buttons.count(), `${icon} rendered (hidden by the policy's style)`).toBe(1);
      for (let i = 0; i < (await buttons.count()); i++)
        expect(await buttons.nth(i).isVisible(), icon).toBe(false);
    }
    // Not even "clean all" for the failed list.
    const cleanAll = page.locator('li:has(svg.lucide-trash-2)');
    for (let i = 0; i < (await cleanAll.count()); i++) expect(await cleanAll.nth(i).isVisible()).toBe(false);
    // Times on the board are the vendor's (Asia/Shanghai, GMT+8), not the browser's Berlin.
    expect(await card.textContent()).toMatch(/GMT\+8/);
    await page.screenshot({ path: join(ARTIFACTS, 'queues-failed-no-clean.png'), fullPage: true });

    // What the hidden buttons would send, sent from the page itself: refused, the job stays.
    const replies = await page.evaluate(async (id) => {
      const put = (path: string) =>
        fetch(`/admin/queues/api/queues/push-entrances/${path}`, { method: 'PUT' }).then(async (r) => ({
          status: r.status,
          body: await r.text(),
        }));
      return [await put(`${encodeURIComponent(id)}/clean`), await put('clean/failed')];
    }, jobId);
    for (const reply of replies) {
      expect(reply.status, reply.body).toBe(403);
      expect(reply.body).toContain('replay --discard');
    }
    expect(await queue.getJobState(jobId)).toBe('failed');
    expect(seen.external).toEqual([]);
    await page.close();
  }, 60_000);

  it('queue dashboard lists the failed job and its Retry button takes it out of the failed set', async () => {
    const queue = fx.queues.push.entrances;
    const jobId = fx.failedJobId2;
    expect(await queue.getJobState(jobId)).toBe('failed');
    const page = await context.newPage();
    const seen = watch(page, server.url);
    await page.goto(`${server.url}/admin/queues`);
    await page.getByText('push-entrances', { exact: true }).first().click();
    await page
      .getByText(/^failed$/i)
      .first()
      .click();
    const card = page
      .locator('[class*="card-"]')
      .filter({ has: page.getByText(jobId, { exact: true }) })
      .last();
    await expect.poll(() => card.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => card.textContent(), { timeout: 15_000 }).toContain('ISP rejected record');
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('[photo, ');
    expect(FORBIDDEN.filter((secret) => text.includes(secret))).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'queues-failed.png'), fullPage: true });

    const retry = card.locator('button:has(svg.lucide-refresh-cw)');
    expect(await retry.count()).toBe(1);
    await retry.click();
    // bull-board may ask for confirmation first.
    const confirm = page.getByRole('button', { name: /^(retry|confirm|ok|yes)$/i });
    if (
      await confirm
        .first()
        .isVisible({ timeout: 1_000 })
        .catch(() => false)
    )
      await confirm.first().click();
    await expect.poll(() => queue.getJobState(jobId), { timeout: 15_000 }).not.toBe('failed');
    expect(['waiting', 'wait', 'prioritized', 'delayed']).toContain(await queue.getJobState(jobId));
    await page.screenshot({ path: join(ARTIFACTS, 'queues-after-retry.png'), fullPage: true });
    expect(seen.external).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 60_000);
});
