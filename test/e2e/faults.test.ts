/**
 * The pipeline under ISP faults, in-process (process-level faults are in test/chaos/): random 500s,
 * tokens that expire every few seconds, a 30-second outage, and one record rejected with code 1
 * inside a batch of 100. In every case nothing is lost and nothing is sent twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readPushJob } from '../../src/pipeline/push-queue.js';
import { startTraffic } from '../../src/sim/demo-vendor/index.js';
import { deliveredExactlyOnce } from '../helpers/delivery.js';
import { expectedEvents } from '../helpers/expected.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const SEED = { lots: 4, visits: 250, photoRows: 0, photos: false, days: 1 };

describe('pipeline under ISP faults', () => {
  it('delivers everything exactly once with 20% injected HTTP 500s', async () => {
    // Small batches: enough requests (~50) that 20% failures certainly happen.
    harness = await startHarness({
      seed: SEED,
      faults: { http500Rate: 0.2 },
      config: { isp: { batch: { maxItems: 10 } } },
    });
    await harness.start();
    await deliveredExactlyOnce(harness);
    expect(harness.sim.state.stats().requests.http500).toBeGreaterThan(0);
  });

  it('keeps delivering while tokens expire every 2 seconds', async () => {
    harness = await startHarness({ seed: SEED, faults: { tokenTtlSeconds: 2 } });
    await harness.start();
    // Traffic for 7 s: deliveries keep happening across several token lifetimes.
    const traffic = await startTraffic(harness.db.url, harness.style, {
      ratePerSecond: 20,
      durationMs: 7_000,
      photos: false,
      holdMs: 500,
    });
    await traffic.done;
    await deliveredExactlyOnce(harness);
    expect(harness.sim.state.stats().requests.tokensIssued).toBeGreaterThanOrEqual(3);
  });

  it('rides out a 30-second outage without hammering ISP, and resumes by itself', async () => {
    harness = await startHarness({ seed: SEED });
    const h = harness;
    h.sim.patchFaults({ downForMs: 30_000 });
    const downSince = Date.now();
    await h.start();
    await waitFor('the outage to end', () => Date.now() - downSince > 30_000, 40_000, 500);
    const refusedDuringOutage = h.sim.state.stats().requests.total;
    await deliveredExactlyOnce(h, 60_000);
    // Backoff and queue rate limiting: a few dozen attempts in 30 s, not thousands.
    expect(refusedDuringOutage).toBeLessThan(300);
  }, 120_000);

  it('resumes within seconds of a short outage with the default backoff', async () => {
    // Product defaults: 1 s first backoff, 5 min cap, so a short outage must not leave the
    // queue paused for minutes afterwards.
    harness = await startHarness({
      seed: SEED,
      config: { pipeline: { backoffMs: 1_000, maxBackoffMs: 300_000 } },
    });
    const h = harness;
    h.sim.patchFaults({ downForMs: 6_000 });
    const upAt = Date.now() + 6_000;
    await h.start();
    await deliveredExactlyOnce(h, 60_000);
    // Everything delivered within seconds of ISP coming back.
    expect(Date.now() - upAt).toBeLessThan(12_000);
  }, 90_000);

  it('isolates one record rejected with code 1 in a batch of 100; the rest is delivered; replay delivers it once', async () => {
    harness = await startHarness({ seed: SEED });
    const h = harness;
    const [[victim]] = (await h.db.admin.query(
      "SELECT park_no, in_plate FROM car_inout WHERE in_plate NOT IN ('', '无牌车') ORDER BY id LIMIT 1 OFFSET 42",
    )) as unknown as [Array<{ park_no: string; in_plate: string }>];
    const expected = await expectedEvents(h.db.admin, h.style);
    const victims = expected.entrances.filter((e) => e.fields.plate_number === victim!.in_plate);
    expect(victims.length).toBeGreaterThan(0);
    h.sim.patchFaults({
      rejectRules: [
        { kind: 'entrance', field: 'plate_number', equals: victim!.in_plate, message: 'plate blacklisted' },
      ],
    });
    await h.start();
    await waitFor(
      'all but the rejected entrance delivered',
      () => h.sim.state.store.count('entrance') >= expected.entrances.length - victims.length,
      90_000,
    );
    const queue = h.rt.queues.push.entrances;
    const failed = (await waitFor('the rejected record in the failed set', async () => {
      const jobs = await queue.getFailed();
      return jobs.length >= victims.length ? jobs : null;
    }))!;
    expect(failed).toHaveLength(victims.length);
    for (const job of failed) {
      const data = readPushJob(job.data);
      expect(data?.kind === 'events' && data.records).toHaveLength(1);
      expect(job.failedReason).toContain('plate blacklisted');
    }
    const delivered = h.sim.state
      .received('entrance', 0, 1e6)
      .map((e) => (e.record as { plate_number: string }).plate_number);
    expect(delivered).not.toContain(victim!.in_plate);
    expect(delivered.length).toBe(expected.entrances.length - victims.length);

    // The operator fixes the cause at ISP and retries from the failed set: delivered once.
    h.sim.patchFaults({ rejectRules: [] });
    for (const job of failed) await job.retry('failed');
    await deliveredExactlyOnce(h, 90_000, new Set(victims.map((v) => v.key)));
  }, 120_000);
});
