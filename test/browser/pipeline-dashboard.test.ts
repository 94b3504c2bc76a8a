/**
 * The dashboard of a running pipeline, in a real browser: a demo vendor database, the ISP
 * simulator and the worker with its dashboard. ISP rejects one record; the operator sees it on the
 * status page (numbers equal /api/status), retries it from the queue dashboard once ISP accepts it
 * again, and it is delivered exactly once. The status page screenshot is docs/operations.md's.
 */

import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readiness } from '../../jobs/readiness.js';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { singleSource } from '../../src/pipeline/fleet-view.js';
import type { StatusSnapshot } from '../../src/pipeline/status-types.js';
import { startDashboard } from '../../src/web/dashboard.js';
import type { WebServer } from '../../src/web/server.js';
import { ARTIFACTS, launchBrowser, retryFromDashboard, watch } from '../helpers/browser.js';
import { expectedEvents } from '../helpers/expected.js';
import { CLIENT_SECRET, type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

const USER = 'operator';
const PASSWORD = 'dashboard-password-never-shown';

describe('dashboard of a running pipeline, in a real browser', () => {
  let h: Harness;
  let web: WebServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let victimPlate: string;
  let failedJobId: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    h = await startHarness({
      seed: { lots: 5, visits: 200, photoRows: 30, days: 1 },
      config: { web: { port: 0, user: USER, password: PASSWORD } },
    });
    const [[row]] = (await h.db.admin.query(
      "SELECT in_plate FROM car_inout WHERE in_plate NOT IN ('', '无牌车') ORDER BY id DESC LIMIT 1",
    )) as unknown as [Array<{ in_plate: string }>];
    victimPlate = row!.in_plate;
    h.sim.patchFaults({
      rejectRules: [
        { kind: 'entrance', field: 'plate_number', equals: victimPlate, message: 'plate not registered' },
      ],
    });
    await h.start();
    const workers = h.workers;
    const startedAt = Date.now();
    web = await startDashboard(
      singleSource(h.rt, workers && (() => readiness(h.rt, { ...workers, startedAt })), startedAt),
    );
    const failed = await waitFor(
      'a rejected record in the failed set',
      async () => (await h.rt.queues.push.entrances.getFailed())[0],
      60_000,
    );
    failedJobId = String(failed!.id);
    const expected = await expectedEvents(h.db.admin, h.style);
    // Departures of the victim's lot from its entrance on wait for it (held), the rest is delivered.
    await waitFor(
      'the rest delivered',
      async () => {
        const held = (await h.rt.holds.lots()).reduce((n, l) => n + l.count, 0);
        return h.sim.state.store.count('departure') + held >= expected.departures.length;
      },
      60_000,
    );
    browser = await launchBrowser({ username: USER, password: PASSWORD });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await h?.close();
  });

  it('shows on the status page what /api/status says, with the failed record counted', async () => {
    const page = await browser.context.newPage();
    const seen = watch(page, web.url);
    await page.goto(`${web.url}/`);
    const res = await fetch(`${web.url}/api/status`, {
      headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
    });
    const api = (await res.json()) as StatusSnapshot;
    const entrances = api.streams.find((s) => s.stream === 'entrances')!;
    expect(entrances.failed).toBe(1);
    expect(entrances.delivered.lastHour).toBeGreaterThan(100);
    for (const s of api.streams) {
      for (const [id, n] of [
        [`delivered-hour-${s.stream}`, s.delivered.lastHour],
        [`failed-${s.stream}`, s.failed],
        [`quarantined-${s.stream}`, s.quarantined],
      ] as const) {
        expect(await page.locator(`[data-testid="${id}"]`).getAttribute('data-value'), id).toBe(String(n));
      }
    }
    expect(await page.locator('[data-testid="lot"]').count()).toBe(api.lots.length);
    const html = await page.content();
    expect(html).not.toContain(PASSWORD);
    expect(html).not.toContain(CLIENT_SECRET);
    await page.screenshot({ path: join(ARTIFACTS, 'pipeline-status.png'), fullPage: false });
    // `UPDATE_DOCS=1 npx vitest run test/browser/pipeline-dashboard.test.ts` refreshes the picture in docs/operations.md.
    if (process.env.UPDATE_DOCS) {
      copyFileSync(join(ARTIFACTS, 'pipeline-status.png'), join(PROJECT_ROOT, 'docs', 'status-page.png'));
    }
    expect(seen.external).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('retries the rejected record from the queue dashboard: delivered exactly once', async () => {
    h.sim.patchFaults({ rejectRules: [] }); // ISP registered the plate
    const page = await browser.context.newPage();
    const seen = watch(page, web.url);
    await page.goto(`${web.url}/admin/queues`);
    await page.getByText('push-entrances', { exact: true }).first().click();
    await page
      .getByText(/^failed$/i)
      .first()
      .click();
    const card = await retryFromDashboard(page, failedJobId, 'plate not registered');
    expect(card).toContain('plate not registered');
    expect(card).not.toContain(CLIENT_SECRET);
    await page.screenshot({ path: join(ARTIFACTS, 'pipeline-queues.png'), fullPage: true });
    await waitFor('the record delivered', () =>
      h.sim.state
        .received('entrance', 0, 1e6)
        .some((e) => (e.record as { plate_number: string }).plate_number === victimPlate),
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const expected = await expectedEvents(h.db.admin, h.style);
    expect(h.sim.state.store.count('entrance')).toBe(expected.entrances.length);
    expect(h.sim.state.stats().duplicates.entrance).toBe(0);
    // The departures it held back follow it.
    await waitFor(
      'every departure delivered',
      () => h.sim.state.store.count('departure') >= expected.departures.length,
    );
    expect(await h.rt.queues.push.entrances.getFailedCount()).toBe(0);
    expect(seen.external).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 60_000);
});
