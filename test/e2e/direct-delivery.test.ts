/**
 * Direct delivery (src/pipeline/events/direct-delivery.ts) on real parts: a healthy ISP gets every page
 * from the poll itself, without a push job; an outage hands the failed batches to the push queue,
 * which delivers them once ISP is back, after which the polls deliver directly again; with
 * `directDelivery: false` every page goes through the queue. Two worker sets (two processes: their
 * push workers have different names) share a backlog through the queue, and deliver live traffic
 * directly.
 */
import type { Queue, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningWorkers, startWorkers } from '../../jobs/workers.js';
import { silentLogger } from '../../src/log.js';
import { directHandOffs } from '../../src/metrics.js';
import { createRuntime, type Runtime } from '../../src/pipeline/runtime.js';
import { startTraffic } from '../../src/sim/demo-vendor/index.js';
import { deliveredExactlyOnce } from '../helpers/delivery.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
/** A second worker set, on a Runtime of its own (as another process would be). */
let second: { rt: Runtime; workers?: RunningWorkers } | undefined;
afterEach(async () => {
  await second?.workers?.close();
  await second?.rt.close();
  second = undefined;
  await harness?.close();
  harness = undefined;
});

/** Completed jobs of a worker set's event push workers, counted from now on. */
function countCompleted(workers: RunningWorkers): () => number {
  let completed = 0;
  for (const w of workers.workers as Worker[]) {
    if (w.name === 'push-entrances' || w.name === 'push-departures') w.on('completed', () => completed++);
  }
  return () => completed;
}

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

  it('shares a backlog between two worker sets through the queue, and delivers live traffic directly', async () => {
    harness = await startHarness({
      seed: { ...SEED, visits: 2_000 },
      // ISP a little slow and one connection each: a poll alone could not keep both sets busy.
      faults: { latencyMs: 20 },
      config: {
        ...SMALL_PAGES,
        isp: { batch: { maxItems: 25 }, connections: 1 },
        pipeline: { pushConcurrency: 1, keepCompleted: { count: 1000 } },
      },
    });
    const h = harness;
    const before = await handOffs();
    second = { rt: createRuntime(h.config, { logger: silentLogger }) };
    const all = new Set(['scheduler', 'poller', 'pusher'] as const);
    h.workers = await startWorkers(h.rt, all, { pusherName: 'set-a' });
    second.workers = await startWorkers(second.rt, all, { pusherName: 'set-b' });
    const [a, b] = [countCompleted(h.workers), countCompleted(second.workers)];
    const expected = await deliveredExactlyOnce(h);
    const jobs = a() + b();
    console.info(
      `[direct delivery] backlog of ${expected.entrances.length} entrances: push jobs set a ${a()}, set b ${b()}`,
    );
    // The backlog went through the queue, and both sets' pushers took a fair share of it.
    expect(jobs).toBeGreaterThanOrEqual(expected.entrances.length / 25);
    expect(Math.min(a(), b())).toBeGreaterThan(jobs * 0.2);
    // Nothing failed: a page queued for the others is not a hand-off.
    expect(await handOffs()).toBe(before);

    // Caught up: short pages go directly, with both sets still running.
    const queued = await pushJobIds(h);
    const traffic = await startTraffic(h.db.url, h.style, {
      ratePerSecond: 40,
      durationMs: 2_000,
      holdMs: 300,
      seed: 12,
    });
    expect((await traffic.done).counts.entrances).toBeGreaterThan(0);
    await deliveredExactlyOnce(h);
    expect(await pushJobIds(h)).toEqual(queued);
  });
});
