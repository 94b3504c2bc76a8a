/**
 * The dashboard of two sources, as an operator sees it in Debian's Chromium: the status page has a
 * section per source with that source's numbers (as /api/status has them); the queue dashboard
 * groups the queues by source, and the Retry of a failed job in one source's `push-entrances`
 * retries that job, not its namesake (same queue name, same job id) in the other source. Real
 * BullMQ queues in the local Redis under two prefixes (the web fixture, twice).
 * Screenshots go to test/artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetStatus } from '../../src/pipeline/status-types.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { ARTIFACTS, launchBrowser, retryFromDashboard, watch } from '../helpers/browser.js';
import { basicAuth, createWebFixture, FORBIDDEN, SECRETS, type WebFixture } from '../web/fixture.js';

describe('dashboard of two sources in a real browser', () => {
  const fixtures: Record<'north' | 'south', WebFixture> = {} as Record<'north' | 'south', WebFixture>;
  let server: WebServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    fixtures.north = await createWebFixture();
    fixtures.south = await createWebFixture();
    // South delivered more in the last hour: the two sections cannot show one source twice.
    await fixtures.south.activity.recordDelivered('entrances', 5, {}, Date.now() - 60_000);
    const startedAt = Math.floor(Date.now() / 1000);
    const names = ['north', 'south'] as const;
    const { north } = fixtures;
    server = await startWebServer({
      ...north.deps(),
      sources: () =>
        names.map((name) => ({ name, config: fixtures[name].config, queues: fixtures[name].queues.all() })),
      status: async () => ({
        generatedAt: Math.floor(Date.now() / 1000),
        version: '0.1.0-test',
        sources: await Promise.all(
          names.map(async (name) => ({
            name,
            startedAt,
            status: await fixtures[name].status(),
            error: null,
          })),
        ),
        idle: [
          {
            name: 'west',
            state: 'removed',
            reason: 'removed from the config; its state and failed jobs are kept',
            since: startedAt - 60,
          },
        ],
      }),
    });
    browser = await launchBrowser({ username: SECRETS.webUser, password: SECRETS.webPassword });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fixtures.north?.close();
    await fixtures.south?.close();
  });

  it('status page: a section per source with its numbers, the source not running with its reason', async () => {
    const page = await browser.context.newPage();
    const seen = watch(page, server.url);
    await page.goto(`${server.url}/`);
    const res = await fetch(`${server.url}/api/status`, { headers: { authorization: basicAuth() } });
    const api = (await res.json()) as FleetStatus;
    expect(api.sources.map((s) => s.name)).toEqual(['north', 'south']);
    let compared = 0;
    for (const source of api.sources) {
      const section = page.locator(`[data-testid="source"][data-source="${source.name}"]`);
      expect(await section.count()).toBe(1);
      await expect.poll(() => section.locator('h2').first().textContent()).toBe(source.name);
      for (const s of source.status!.streams) {
        for (const [id, n] of [
          [`delivered-hour-${s.stream}`, s.delivered.lastHour],
          [`failed-${s.stream}`, s.failed],
          [`quarantined-${s.stream}`, s.quarantined],
        ] as const) {
          const el = section.locator(`[data-testid="${id}"]`);
          expect(await el.count(), `${source.name} ${id}`).toBe(1);
          expect(await el.getAttribute('data-value'), `${source.name} ${id}`).toBe(String(n));
          compared++;
        }
      }
      // Each chart keeps its own accessible name.
      const chart = section.locator('[data-testid="chart"]');
      expect(await chart.getAttribute('aria-labelledby')).toBe(`chart-title-${source.name}`);
      expect(await section.locator(`#chart-title-${source.name}`).count()).toBe(1);
    }
    expect(compared).toBe(2 * 4 * 3);
    const hour = (name: string) =>
      page
        .locator(`[data-source="${name}"] [data-testid="delivered-hour-entrances"]`)
        .getAttribute('data-value');
    expect(Number(await hour('south'))).toBe(Number(await hour('north')) + 5);
    const idle = page.locator('[data-testid="idle-source"][data-source="west"]');
    expect(await idle.getAttribute('data-state')).toBe('removed');
    expect(await idle.textContent()).toContain('its state and failed jobs are kept');
    // The summary links to each section.
    await page.locator('[data-testid="source-row"][data-source="south"] a').click();
    await expect.poll(() => page.evaluate('location.hash')).toBe('#source-south');
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-status.png'), fullPage: false });
    const html = await page.content();
    expect(FORBIDDEN.filter((secret) => html.includes(secret))).toEqual([]);
    expect(seen.external).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('queue dashboard: queues grouped by source; Retry in south retries south’s job, not north’s', async () => {
    const southQueue = fixtures.south.queues.push.entrances;
    const northQueue = fixtures.north.queues.push.entrances;
    // The same job id in both sources' push-entrances.
    const jobId = fixtures.south.failedJobId2;
    expect(fixtures.north.failedJobId2).toBe(jobId);
    expect(await southQueue.getJobState(jobId)).toBe('failed');
    expect(await northQueue.getJobState(jobId)).toBe('failed');

    const page = await browser.context.newPage();
    const seen = watch(page, server.url);
    await page.goto(`${server.url}/admin/queues`);
    const group = (name: string) => page.locator('aside button[class*="groupHeader-"]', { hasText: name });
    await expect.poll(() => group('north').count(), { timeout: 15_000 }).toBe(1);
    expect(await group('south').count()).toBe(1);
    const link = page.locator('aside a[href$="queue/south.push-entrances"]');
    if (!(await link.isVisible())) await group('south').click();
    await link.click();
    await expect
      .poll(() => page.evaluate('location.pathname'))
      .toBe('/admin/queues/queue/south.push-entrances');
    await expect
      .poll(() => page.locator('h1', { hasText: 'south · push-entrances' }).count(), { timeout: 15_000 })
      .toBe(1);
    await page
      .getByText(/^failed$/i)
      .first()
      .click();
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-queues.png'), fullPage: true });
    expect(await retryFromDashboard(page, jobId, 'ISP rejected record')).toContain('ISP rejected record');
    await expect.poll(() => southQueue.getJobState(jobId), { timeout: 15_000 }).not.toBe('failed');
    expect(await northQueue.getJobState(jobId)).toBe('failed');
    expect(seen.external).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 60_000);
});
