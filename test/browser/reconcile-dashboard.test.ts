/**
 * The nightly reconcile, from its schedule to the status page, in a real browser: the full sync's
 * job scheduler fires at 01:00 in the vendor zone; run at a faked 01:00 it queues the reconcile of
 * yesterday behind it, which the running worker carries out. Two entrances lost on the way show as
 * a red cell of their lot's day, in `isp_sync_reconcile_missing` and as an alert; the nightly repair
 * (config) sends them and the next night's look is complete. Real MariaDB, Redis, simulator, Chromium.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FullSyncJobData, fullSyncProcessor, reconcileJobId } from '../../jobs/full-sync.js';
import { readiness } from '../../jobs/readiness.js';
import { naturalKeyOf } from '../../src/pipeline/events/records.js';
import { singleSource } from '../../src/pipeline/fleet-view.js';
import { runNightlyReconcile } from '../../src/pipeline/reconcile/nightly.js';
import { FULL_SYNC_SCHEDULER_ID } from '../../src/pipeline/schedules.js';
import { EVENT_STREAMS, type EventRow } from '../../src/pipeline/streams.js';
import { readEventPage } from '../../src/vendor-db/index.js';
import { startDashboard } from '../../src/web/dashboard.js';
import type { WebServer } from '../../src/web/server.js';
import { ARTIFACTS, launchBrowser, watch } from '../helpers/browser.js';
import { insertDayVisits, lotCodesOf } from '../helpers/day-visits.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

const USER = 'operator';
const PASSWORD = 'dashboard-password-never-shown';
const ZONE = 'Asia/Shanghai';
const PER_LOT = 60;

describe('nightly reconcile on the status page', () => {
  let h: Harness;
  let web: WebServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let lots: string[];
  let day: string;
  const auth = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    h = await startHarness({
      seed: { lots: 4, visits: 0, photos: false },
      config: {
        web: { port: 0, user: USER, password: PASSWORD },
        streams: { entrances: { photo: null }, departures: { photo: null } },
      },
    });
    day = DateTime.now().setZone(ZONE).minus({ days: 1 }).toFormat('yyyy-MM-dd');
    lots = await lotCodesOf(h);
    await insertDayVisits(h, day, lots, PER_LOT);
    await h.start();
    const workers = h.workers!;
    web = await startDashboard(
      singleSource(h.rt, () => readiness(h.rt, { ...workers, startedAt: Date.now() })),
    );
    await waitFor(
      'the day delivered',
      () => h.sim.state.store.count('departure') === lots.length * PER_LOT,
      60_000,
    );
    // Two entrances of the second lot lost on the way: ISP and the ledger never had them.
    const start = DateTime.fromISO(day, { zone: ZONE }).toSeconds();
    const page = await readEventPage(
      h.rt.vendor,
      'entrances',
      h.config.streams.entrances,
      h.config.vendor,
      null,
      {
        limit: 5000,
        from: start,
        upTo: start + 86_400,
      },
    );
    const records = (page.rows as EventRow[])
      .map((row) => EVENT_STREAMS.entrances.toRecord(row, h.rt.transform))
      .flatMap((o) => (o.ok && o.record.lot === lots[1] ? [o.record] : []))
      .slice(10, 12);
    await h.rt.ledgers.entrances.forget(records);
    h.sim.state.store.forget(
      'entrance',
      records.map((r) => naturalKeyOf(r.key, r.vendorKey)),
    );
    browser = await launchBrowser({ username: USER, password: PASSWORD });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await h?.close();
  });

  it('is scheduled after the full sync at 01:00 in the vendor zone', async () => {
    const scheduler = await h.rt.queues.fullSync.getJobScheduler(FULL_SYNC_SCHEDULER_ID);
    expect(scheduler).toMatchObject({ pattern: '0 0 1 * * *', tz: ZONE });
    const next = DateTime.fromMillis(Number(scheduler!.next), { zone: ZONE });
    expect([next.hour, next.minute, next.second]).toEqual([1, 0, 0]);
  });

  it('runs at a faked 01:00, reconciles yesterday, and shows the lot × day grid', async () => {
    const fakedNow = DateTime.now().setZone(ZONE).set({ hour: 1, minute: 0, second: 2 }).toMillis();
    const job = { name: 'full-sync', data: { reason: 'nightly' } } as Job<FullSyncJobData>;
    await fullSyncProcessor(h.rt, { now: () => fakedNow })(job);
    await waitFor(
      'the reconcile of yesterday done by the worker',
      async () => (await h.rt.queues.fullSync.getJobState(reconcileJobId(day))) === 'completed',
      60_000,
    );

    const metrics = await (await fetch(`${web.url}/metrics`, { headers: auth })).text();
    expect(metrics).toContain('isp_sync_reconcile_missing{source="default",stream="entrances"} 2');
    expect(metrics).toContain('isp_sync_reconcile_missing{source="default",stream="departures"} 0');

    const page = await browser.context.newPage();
    const seen = watch(page, web.url);
    await page.goto(`${web.url}/`);
    expect(await page.locator('[data-testid="reconcile-latest"]').getAttribute('data-value')).toBe('2');
    const cell = (lot: string) =>
      page.locator(`[data-testid="reconcile-lot"][data-park-code="${lot}"] [data-day="${day}"]`);
    expect(await cell(lots[1]!).getAttribute('data-verdict')).toBe('missing');
    expect(await cell(lots[1]!).textContent()).toBe('2 missing');
    for (const lot of [lots[0]!, lots[2]!, lots[3]!])
      expect(await cell(lot).getAttribute('data-verdict')).toBe('complete');
    expect(await page.locator('[data-testid="alert"]').allTextContents()).toContainEqual(
      expect.stringContaining(`nightly reconcile of ${day}: 2 event(s)`),
    );
    await page.locator('[data-testid="reconcile-grid"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'reconcile-status.png'), fullPage: true });
    expect(seen.external).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('with reconcile.nightlyRepair, repairs by itself; the next look is complete', async () => {
    h.rt.config.reconcile.nightlyRepair = true;
    const before = h.sim.state.store.count('entrance');
    const night = await runNightlyReconcile(h.rt, { day });
    expect(night.repaired).toBe(2);
    await waitFor(
      'the two entrances delivered',
      () => h.sim.state.store.count('entrance') === before + 2,
      30_000,
    );
    h.rt.config.reconcile.nightlyRepair = false;
    expect((await runNightlyReconcile(h.rt, { day })).complete).toBe(true);
    expect(h.sim.state.stats().duplicates).toEqual({ entrance: 0, departure: 0 });

    const page = await browser.context.newPage();
    await page.goto(`${web.url}/`);
    expect(
      await page
        .locator(`[data-testid="reconcile-lot"][data-park-code="${lots[1]}"] [data-day="${day}"]`)
        .getAttribute('data-verdict'),
    ).toBe('complete');
    await page.screenshot({ path: join(ARTIFACTS, 'reconcile-status-repaired.png'), fullPage: true });
    await page.close();
  }, 60_000);
});
