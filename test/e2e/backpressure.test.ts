/**
 * Bounded Redis while ISP is down: the poller stops reading once the push queue holds more than
 * `maxQueueDepth` jobs, and reads on when ISP is back. Spot counts: a burst of changes to one lot
 * during an outage sends only its latest count. Finished jobs are trimmed by count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pendingDepth } from '../../src/pipeline/queues.js';
import { expectedEvents } from '../helpers/expected.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('backpressure and coalescing', () => {
  it('stops reading while the push queue is over its bound, then drains everything', async () => {
    harness = await startHarness({
      seed: { lots: 3, visits: 2_000, photos: false, days: 1 },
      config: {
        pipeline: { maxQueueDepth: 3, keepCompleted: { count: 5 } },
        streams: { entrances: { pageSize: 100 }, departures: { pageSize: 100 } },
        isp: { batch: { maxItems: 50 } },
      },
    });
    const h = harness;
    await h.registerLots();
    h.sim.patchFaults({ downForMs: 8_000 });
    await h.start();
    let maxDepth = 0;
    const started = Date.now();
    while (Date.now() - started < 7_000) {
      maxDepth = Math.max(maxDepth, await pendingDepth(h.rt.queues.push.entrances));
      await new Promise((r) => setTimeout(r, 100));
    }
    // The bound, plus at most one page's jobs (100 rows / 50 per job) added by the poll that crossed it.
    expect(maxDepth).toBeGreaterThan(0);
    expect(maxDepth).toBeLessThanOrEqual(3 + 2 + 1);
    const checkpoint = await h.rt.checkpoints.get('entrances');
    const [[row]] = (await h.db.admin.query(
      'SELECT COUNT(*) AS n FROM car_inout WHERE in_time < ? OR (in_time = ? AND id <= ?)',
      [checkpoint!.time, checkpoint!.time, checkpoint!.id],
    )) as unknown as [Array<{ n: number }>];
    expect(Number(row!.n)).toBeLessThan(1_000);

    const expected = await expectedEvents(h.db.admin, h.style);
    await waitFor(
      'everything delivered after the outage',
      () => h.sim.state.store.count('entrance') >= expected.entrances.length,
      90_000,
    );
    await waitFor(
      'departures too',
      () => h.sim.state.store.count('departure') >= expected.departures.length,
      90_000,
    );
    expect(h.sim.state.stats().duplicates.entrance).toBe(0);
    // Completed jobs are trimmed to the configured count (best effort: trimmed as jobs complete).
    await waitFor(
      'trimmed',
      async () => ((await h.rt.queues.push.entrances.getJobCounts('completed')).completed ?? 0) <= 6,
      10_000,
    );
  }, 150_000);

  it('sends only the latest count of a lot after a burst of changes', async () => {
    harness = await startHarness({ seed: { lots: 2, visits: 10, photos: false, days: 1 } });
    const h = harness;
    await h.start();
    await waitFor('first counts', () => h.sim.state.store.count('spot-num') >= 2);
    const [[lot]] = (await h.db.admin.query(
      'SELECT park_no, total_num FROM parkinfo ORDER BY park_no LIMIT 1',
    )) as unknown as [Array<{ park_no: string; total_num: number }>];
    const before = h.sim.state.store.count('spot-num');
    h.sim.patchFaults({ downForMs: 5_000 });
    for (const used of [1, 2, 3, 4, 5]) {
      await h.db.admin.query('UPDATE parkinfo SET used_num = ? WHERE park_no = ?', [used, lot!.park_no]);
      await new Promise((r) => setTimeout(r, 700)); // a couple of polls see each value
    }
    await waitFor(
      'the latest count delivered',
      () => {
        const mine = h.sim.state
          .received('spot-num', 0, 1e6)
          .map((e) => e.record as { park_code: string; used_spots_num: number })
          .filter((s) => s.park_code === lot!.park_no);
        return mine.at(-1)?.used_spots_num === 5;
      },
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const sent = h.sim.state
      .received('spot-num', before, 1e6)
      .map((e) => e.record as { park_code: string; used_spots_num: number; remain_spots_num: number })
      .filter((s) => s.park_code === lot!.park_no);
    expect(sent.map((s) => s.used_spots_num)).toEqual([5]);
    expect(sent[0]!.remain_spots_num).toBe(lot!.total_num - 5);
  }, 60_000);
});
