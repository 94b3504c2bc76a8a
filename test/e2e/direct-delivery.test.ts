/**
 * Direct delivery (src/pipeline/events/direct-delivery.ts) on real parts: a healthy ISP gets every page
 * from the poll itself, without a push job; an outage hands the failed batches to the push queue,
 * which delivers them once ISP is back, after which the polls deliver directly again; with
 * `directDelivery: false` every page goes through the queue.
 */
import type { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { directHandOffs } from '../../src/metrics.js';
import { startTraffic } from '../../src/sim/demo-vendor/index.js';
import { deliveredExactlyOnce } from '../helpers/delivery.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const SEED = { lots: 4, visits: 600, photoRows: 0, photos: false, days: 1 };
/**
 * Streams without photos (the preset's photo columns turned off: photo streams always go through
 * the queue), in pages of 100 and jobs of 25: a page is several jobs, delivered a few at a time.
 */
const SMALL_PAGES = {
  streams: { entrances: { pageSize: 100, photo: null }, departures: { pageSize: 100, photo: null } },
  isp: { batch: { maxItems: 25 } },
};

async function handOffs(): Promise<number> {
  const metric = await directHandOffs.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

/** Every job the event push queues have seen (kept: completed up to keepCompleted, failed, waiting). */
async function pushJobIds(h: Harness): Promise<string[]> {
  const ids: string[] = [];
  for (const queue of [h.rt.queues.push.entrances, h.rt.queues.push.departures] as Queue[]) {
    const jobs = await queue.getJobs(['completed', 'failed', 'wait', 'active', 'delayed', 'prioritized']);
    ids.push(...jobs.map((j) => String(j.id)));
  }
  return ids.sort();
}

describe('direct delivery', () => {
  it('delivers every page from the poll, exactly once, without a push job', async () => {
    harness = await startHarness({ seed: SEED, config: SMALL_PAGES });
    const h = harness;
    const before = await handOffs();
    await h.start();
    const expected = await deliveredExactlyOnce(h);
    expect(expected.entrances.length).toBeGreaterThan(500);
    expect(await pushJobIds(h)).toEqual([]);
    expect(await handOffs()).toBe(before);
    // Counted as delivered like any push (status page, /api/status).
    const status = await h.rt.activity.deliveredSince('entrances', Date.now() - 3_600_000);
    expect(status).toBe(expected.entrances.length);
  });

  it('hands failed batches to the queue during an outage, then delivers directly again', async () => {
    harness = await startHarness({
      seed: SEED,
      config: { ...SMALL_PAGES, pipeline: { backoffMs: 200, maxBackoffMs: 1_000 } },
    });
    const h = harness;
    const before = await handOffs();
    await h.registerLots();
    h.sim.patchFaults({ downForMs: 3_000 });
    await h.start();
    await deliveredExactlyOnce(h);
    expect(await handOffs()).toBeGreaterThan(before);
    // The handed-off jobs went through the queue, under their deterministic ids.
    const queued = await pushJobIds(h);
    expect(queued.length).toBeGreaterThan(0);
    expect(queued.every((id) => /^(entrances|departures)-/.test(id))).toBe(true);
    await waitFor(
      'the push queues drained',
      async () =>
        (await h.rt.queues.push.entrances.getWaitingCount()) +
          (await h.rt.queues.push.entrances.getDelayedCount()) ===
        0,
      30_000,
    );

    // ISP is back and the queues are empty: new traffic goes directly again.
    const handedOff = await handOffs();
    const traffic = await startTraffic(h.db.url, h.style, {
      ratePerSecond: 40,
      durationMs: 2_000,
      holdMs: 300,
      seed: 11,
    });
    const report = await traffic.done;
    expect(report.counts.entrances).toBeGreaterThan(0);
    await deliveredExactlyOnce(h);
    expect(await handOffs()).toBe(handedOff);
    expect(await pushJobIds(h)).toEqual(queued);
  });

  it('sends every page through the push queue with directDelivery off', async () => {
    harness = await startHarness({
      seed: SEED,
      config: { ...SMALL_PAGES, pipeline: { directDelivery: false, keepCompleted: { count: 1000 } } },
    });
    const h = harness;
    await h.start();
    const expected = await deliveredExactlyOnce(h);
    const ids = await pushJobIds(h);
    // Jobs of at most 25 records: at least one per 25 events of each stream.
    expect(ids.length).toBeGreaterThanOrEqual(
      Math.ceil(expected.entrances.length / 25) + Math.ceil(expected.departures.length / 25),
    );
  });
});
