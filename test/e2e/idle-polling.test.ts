/**
 * Idle polling end to end (real Redis, MariaDB and ISP simulator): a stream whose polls find
 * nothing for `idleAfterMs` has its poll job scheduler moved to `idlePollEveryMs`, and back to
 * `pollEveryMs` by the first poll that finds a row; the event that woke it is delivered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pollSchedulerId } from '../../src/pipeline/schedules.js';
import { startTraffic } from '../../src/sim/demo-vendor/index.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const IDLE = { idleAfterMs: 1_000, idlePollEveryMs: 2_000 };

describe('idle polling', () => {
  it('slows an idle stream to its idle interval and speeds it up on the first new row', async () => {
    harness = await startHarness({
      seed: { lots: 2, visits: 10, photoRows: 0, days: 1 },
      config: { streams: { entrances: IDLE, departures: IDLE, spotNums: IDLE } },
    });
    const h = harness;
    const everyOf = async (stream: 'entrances' | 'departures' | 'spotNums') =>
      (await h.rt.queues.poll[stream].getJobScheduler(pollSchedulerId(stream)))?.every;
    await h.start();
    const seeded = () => h.sim.state.store.count('entrance');
    await waitFor('the seeded entrances delivered', () => seeded() > 0, 20_000);

    await waitFor(
      'every polled stream idle',
      async () =>
        (await everyOf('entrances')) === 2_000 &&
        (await everyOf('departures')) === 2_000 &&
        (await everyOf('spotNums')) === 2_000,
      20_000,
    );
    // Idle: polls about every 2 s, not every 300 ms.
    const polledAt = () => h.rt.progress.polledAt('entrances');
    const seen = new Set<number | undefined>();
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      seen.add(await polledAt());
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen.size).toBeLessThanOrEqual(3);

    const before = seeded();
    const traffic = await startTraffic(h.db.url, 'visit-table', {
      ratePerSecond: 4,
      durationMs: 600,
      holdMs: 0,
      photoDir: h.photoDir,
      seed: 11,
    });
    const report = await traffic.done;
    expect(report.counts.entrances).toBeGreaterThan(0);
    await waitFor(
      'entrances back at the usual interval',
      async () => (await everyOf('entrances')) === 300,
      15_000,
    );
    await waitFor('the new entrances delivered', () => seeded() >= before + report.counts.entrances, 15_000);
  }, 90_000);
});
